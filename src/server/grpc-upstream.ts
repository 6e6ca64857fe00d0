// One node:http2 client session to the upstream (h2c, h2 over verified TLS, or h2c over a unix socket), replaced when it dies.
import { readFileSync } from 'node:fs';
import http2, { type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import net from 'node:net';
import type { Config } from '../config/types.js';

export interface UpstreamSessions {
  /** `:scheme` and `:authority` of requests sent upstream. */
  scheme: 'http' | 'https';
  authority: string;
  /** The live session; a new one is connected when there is none, or the last one closed, failed or got GOAWAY. */
  session(): ClientHttp2Session;
  /** Destroys the current session (at shutdown, after the listener drained). */
  close(): void;
}

// Wider flow-control windows than HTTP/2's 64 KiB default, so one stream is not capped at a window per round trip;
// still bounded per stream, so a slow caller cannot make the proxy buffer more than this from the upstream.
const STREAM_WINDOW = 1 << 20;
const SESSION_WINDOW = 16 << 20;

function authorityOf(config: Config): string {
  const up = config.upstream;
  if (up.kind === 'unix') return 'localhost';
  return up.url.host;
}

export function createUpstreamSessions(config: Config): UpstreamSessions {
  const up = config.upstream;
  const scheme = up.kind === 'https' ? 'https' : 'http';
  const authority = authorityOf(config);
  const ca = up.kind === 'https' && config.upstreamCa ? readFileSync(config.upstreamCa, 'utf8') : undefined;
  let current: ClientHttp2Session | undefined;
  let closed = false;

  const connect = (): ClientHttp2Session => {
    const options: SecureClientSessionOptions = { settings: { initialWindowSize: STREAM_WINDOW, enablePush: false } };
    let target: string;
    if (up.kind === 'unix') {
      target = 'http://localhost';
      options.createConnection = () => net.connect(up.socketPath);
    } else if (up.kind === 'https') {
      target = up.origin;
      // Verified like the HTTP path: --upstream-ca, else the system store; the name checked is the URL's host.
      options.rejectUnauthorized = true;
      if (ca !== undefined) options.ca = ca;
      if (!net.isIP(up.host)) options.servername = up.host;
    } else {
      target = up.origin; // http:// means h2c with prior knowledge, as gRPC servers expect
    }
    const session = http2.connect(target, options);
    const forget = (): void => {
      if (current === session) current = undefined;
    };
    // A failed session fails its streams (they report it); the session error itself only retires the session.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    return session;
  };

  return {
    scheme,
    authority,
    session() {
      if (closed) throw new Error('upstream sessions closed');
      if (current === undefined || current.closed || current.destroyed) current = connect();
      return current;
    },
    close() {
      closed = true;
      current?.destroy();
      current = undefined;
    },
  };
}
