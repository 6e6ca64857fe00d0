// Types for load-client.mjs, so the TypeScript reliability tests and the plain-ESM soak runner share one load
// generator.
export declare const NOT_SENT: 0;
export declare const LOST: 1;
export declare const TRUNCATED: 2;

export declare function expectedBody(id: number, path: string): string;

export interface LoadOptions {
  port: number;
  host?: string;
  servername?: string;
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  minVersion?: import('node:tls').SecureVersion;
  maxVersion?: import('node:tls').SecureVersion;
  session?: Buffer;
  connections: number;
  /** Stop after this many requests (ids firstId .. firstId+requests-1). */
  requests?: number;
  firstId?: number;
  durationMs?: number;
  signal?: AbortSignal;
  pathOf?: (id: number) => string;
  method?: string;
  body?: string;
  /** Keep start/end/status per id (capacity: requests, else recordCapacity). */
  record?: boolean;
  recordCapacity?: number;
  /** Send `Connection: close`, so every request pays for a fresh handshake. */
  connectionClose?: boolean;
  /** Open a new connection when one closes (default true). */
  reconnect?: boolean;
  stopOnConnectError?: boolean;
  /** Filled in place while the load runs (for progress reports). */
  report?: Partial<LoadReport>;
  onErrorResponse?: (id: number, status: number, body: string) => void;
  onConnectionLoss?: (id: number, code: 1 | 2) => void;
}

export interface LoadReport {
  sent: number;
  completed: number;
  ok: number;
  byStatus: Record<string, number>;
  mismatched: number;
  mismatchSamples: Array<{ id: number; got: string }>;
  lost: number;
  truncated: number;
  connects: number;
  connectErrors: number;
  elapsedMs: number;
  maxLatencyMs: number;
  latencySumMs: number;
}

export interface LoadRecords {
  /** ms since t0 */
  start: Float64Array;
  end: Float64Array;
  /** HTTP status, or NOT_SENT / LOST / TRUNCATED. */
  status: Uint16Array;
}

export declare function runLoad(
  o: LoadOptions,
): Promise<{ report: LoadReport; records: LoadRecords | undefined; t0: number }>;
