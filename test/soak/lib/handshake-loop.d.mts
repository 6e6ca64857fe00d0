// Types for handshake-loop.mjs.
import type { SecureVersion } from 'node:tls';

export interface HandshakeLoopResult {
  done: number;
  secured: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
}
export declare function runHandshakes(o: {
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  count: number;
  concurrency?: number;
  request?: boolean;
  timeoutMs?: number;
  maxVersion?: SecureVersion;
  signal?: AbortSignal;
}): Promise<HandshakeLoopResult>;
