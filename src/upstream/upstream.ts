// The one upstream object, built at start: its target (resolved once) and the pools every forwarding kind draws from.
import type { Pool as UndiciPool } from 'undici';
import type { Config } from '../config/types.js';
import { createUpstreamSessions, type UpstreamSessions } from './grpc-upstream.js';
import { resolveUpstreamTarget, type UpstreamTarget } from './target.js';
import { Pool } from './undici-internals.js';

/** undici keep-alive connections to the upstream (HTTP/1.1 forwarding). */
function createUpstreamPool(
  target: UpstreamTarget,
  config: Pick<Config, 'limits' | 'upstreamTimeoutMs' | 'idleTimeoutMs'>,
): UndiciPool {
  const options: UndiciPool.Options = {
    // One upstream connection per request in flight, up to --upstream-max-connections (default 512, the default
    // --max-connections: HTTP/1.1 callers alone never wait for one). Unbounded, HTTP/2 callers opening and
    // resetting streams made the proxy open thousands of upstream connections in seconds.
    connections: config.limits.upstreamMaxConnections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    // --upstream-timeout is the time to response headers; bodies may stream for as long as data flows.
    headersTimeout: config.upstreamTimeoutMs,
    bodyTimeout: config.idleTimeoutMs,
  };
  if ('socketPath' in target.address) options.socketPath = target.address.socketPath;
  if (target.tls !== undefined) options.connect = { ...target.tls };
  return new Pool(target.origin, options);
}

export interface Upstream {
  target: UpstreamTarget;
  /** HTTP/1.1 connections (plain requests with --upstream-protocol http1). */
  pool: UndiciPool;
  /** HTTP/2 sessions (gRPC calls; plain requests with --upstream-protocol h2). */
  sessions: UpstreamSessions;
  /** Drops every upstream connection, in-flight requests included (once every caller connection is gone). */
  close(): Promise<void>;
}

export function createUpstream(config: Config): Upstream {
  const target = resolveUpstreamTarget(config);
  const pool = createUpstreamPool(target, config);
  const sessions = createUpstreamSessions(target, config.limits);
  return {
    target,
    pool,
    sessions,
    async close() {
      sessions.close();
      await pool.destroy();
    },
  };
}
