// The one typed configuration object every command receives after validation.

export type Upstream =
  | { kind: 'http' | 'https'; url: URL; host: string; port: number; origin: string }
  | { kind: 'unix'; socketPath: string; origin: string };

export interface HostPort {
  host: string;
  port: number;
}

/** Raw allow rules from the `--allow-*` flags (each list: a caller matching any one entry is admitted). */
export interface AllowFlags {
  cn: string[];
  ou: string[];
  o: string[];
  dns: string[];
  uri: string[];
  email: string[];
  serial: string[];
  fingerprint: string[];
  subject: string[];
}

/** Admission limits, per process: what one caller, or a flood of them, can make the proxy hold. */
export interface ConnectionLimits {
  maxConnections: number;
  maxHandshakes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to HTTP/2 callers. */
  maxConcurrentStreams: number;
  /** Size of the HTTP/1.1 upstream pool. */
  upstreamMaxConnections: number;
  /** HTTP/2 upstream streams one caller connection may hold at once. */
  upstreamStreamsPerConnection: number;
}

export interface Config {
  listen: HostPort;
  upstream: Upstream;
  upstreamCa?: string;
  /** HTTP version for plain requests to the upstream; gRPC always uses HTTP/2 (h2c, or h2 over verified TLS). */
  upstreamProtocol: 'http1' | 'h2';
  cert: string;
  key: string;
  clientCa: string[];
  crl: string[];
  allow: AllowFlags;
  allowAnyVerified: boolean;
  policy?: string;
  /** null when `--metrics-listen off`. */
  metricsListen: HostPort | null;
  minTlsVersion: 'TLSv1.2' | 'TLSv1.3';
  forwardCert: boolean;
  /** Extra request headers to remove (`--strip-header`), normalized: lower case, `_` as `-`. */
  stripHeaders: ReadonlySet<string>;
  /** Durations in milliseconds. */
  upstreamTimeoutMs: number;
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** Whole-request deadline for receiving the request body. */
  requestTimeoutMs: number;
  reloadIntervalMs: number;
  shutdownGraceMs: number;
  workers: number;
  limits: ConnectionLimits;
  allowInsecurePosture: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Options as they come from one source, keyed by flag name without the leading dashes (`client-ca`). */
export type RawOptions = Record<string, unknown>;

/** Inputs to `loadConfig`: precedence flags > env > config file (`flags.config`) > fallbacks > built-in defaults. */
export interface ConfigInput {
  flags: RawOptions;
  env: Record<string, string | undefined>;
  /** Lower-precedence defaults a command supplies (e.g. `dev` points cert/key/client-ca at ./.mtls-dev). */
  fallbacks?: RawOptions;
}
