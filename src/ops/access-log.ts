// One access line per request: who called, what was decided, how long it took. Never the query string or secrets.
import type { Logger } from 'pino';

export interface AccessEntry {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  upstreamMs?: number;
  subject?: string;
  uri?: string;
  serial?: string;
  decision: string;
  rule?: string | null;
  reason?: string;
  grpcStatus?: number;
}

export function logAccess(log: Logger, entry: AccessEntry): void {
  log.info(entry, 'access');
}
