// Where the upstream is and how it is addressed and verified, resolved once at start: authority, SNI name, CA (read
// once, here).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Config } from '../config/types.js';

export interface UpstreamTarget {
  scheme: 'http' | 'https';
  /** The Host header and `:authority` sent upstream: the upstream's own authority (`localhost` for a unix socket). */
  authority: string;
  /** The origin clients connect to (`http://localhost` for a unix socket, reached through `socketPath`). */
  origin: string;
  /** How a plain socket reaches it. */
  address: { socketPath: string } | { host: string; port: number };
  /**
   * https only: verified always, against --upstream-ca (read once, here) or the system store; the name checked and
   * sent as SNI is the URL's host (no SNI for an IP address, RFC 6066 §3).
   */
  tls: { rejectUnauthorized: true; ca?: string; servername?: string } | undefined;
}

export function resolveUpstreamTarget(config: Pick<Config, 'upstream' | 'upstreamCa'>): UpstreamTarget {
  const up = config.upstream;
  if (up.kind === 'unix') {
    return {
      scheme: 'http',
      authority: 'localhost',
      origin: 'http://localhost',
      address: { socketPath: up.socketPath },
      tls: undefined,
    };
  }
  const target: UpstreamTarget = {
    scheme: up.kind,
    authority: up.url.host,
    origin: up.origin,
    address: { host: up.host, port: up.port },
    tls: undefined,
  };
  if (up.kind === 'https') {
    target.tls = {
      rejectUnauthorized: true,
      ...(config.upstreamCa ? { ca: readFileSync(config.upstreamCa, 'utf8') } : {}),
      ...(net.isIP(up.host) ? {} : { servername: up.host }),
    };
  }
  return target;
}
