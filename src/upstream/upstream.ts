// The upstream connection pool: undici keep-alive connections to the configured origin (http, https with verification, or a unix socket).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';
import type { Config } from '../config/types.js';

// undici's index also loads fetch, WebSocket, caches and mocks: about 8 MB of RSS in every pod for code never run.
// The pool is all the forwarding uses; this is the module undici's own index exports as `Pool`.
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

export interface UpstreamPool {
  pool: UndiciPool;
  /** The Host header sent upstream: the upstream's own authority (`localhost` for a unix socket). */
  host: string;
}

export function createUpstreamPool(config: Config): UpstreamPool {
  const upstream = config.upstream;
  const options: UndiciPool.Options = {
    // One upstream connection per request in flight, up to --upstream-max-connections (default 512, the default
    // --max-connections: HTTP/1.1 callers alone never wait for one). Unbounded, HTTP/2 callers opening and
    // resetting streams made the proxy open thousands of upstream connections in seconds.
    connections: config.limits.upstreamMaxConnections,
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
