// The upstream connection pool: undici keep-alive connections to the configured origin (http, https with verification, or a unix socket).
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { Config } from '../config/types.js';

export interface UpstreamPool {
  pool: Pool;
  /** The Host header sent upstream: the upstream's own authority (`localhost` for a unix socket). */
  host: string;
}

export function createUpstreamPool(config: Config): UpstreamPool {
  const upstream = config.upstream;
  const options: Pool.Options = {
    // One upstream connection per request in flight, as nginx does: a fixed cap let a few stalled uploads
    // starve every other caller of upstream connections.
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    // SPEC: --upstream-timeout is the time to response headers; bodies may stream for as long as data flows.
    headersTimeout: config.upstreamTimeoutMs,
    bodyTimeout: config.idleTimeoutMs,
  };
  if (upstream.kind === 'unix') {
    return { pool: new Pool('http://localhost', { ...options, socketPath: upstream.socketPath }), host: 'localhost' };
  }
  if (upstream.kind === 'https') {
    options.connect = {
      rejectUnauthorized: true,
      ...(config.upstreamCa ? { ca: readFileSync(config.upstreamCa, 'utf8') } : {}),
    };
  }
  return { pool: new Pool(upstream.origin, options), host: upstream.url.host };
}
