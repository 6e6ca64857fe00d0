// Turns the configured upstream into @fastify/reply-from / undici options (keep-alive pool, timeouts, TLS verification).
import { readFileSync } from 'node:fs';
import type { Config, Upstream } from '../config/types.js';

export interface UpstreamOptions {
  base: string;
  undici: Record<string, unknown>;
}

/** The `base` @fastify/reply-from understands: an origin, or `unix+http://<encoded path>`. */
export function upstreamBase(upstream: Upstream): string {
  if (upstream.kind === 'unix') return `unix+http://${encodeURIComponent(upstream.socketPath)}`;
  return upstream.origin;
}

export function buildUpstreamOptions(config: Config): UpstreamOptions {
  const undici: Record<string, unknown> = {
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
  if (config.upstream.kind === 'https') {
    undici.connect = {
      rejectUnauthorized: true,
      ...(config.upstreamCa ? { ca: readFileSync(config.upstreamCa, 'utf8') } : {}),
    };
  }
  return { base: upstreamBase(config.upstream), undici };
}
