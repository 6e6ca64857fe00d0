// node:http2 client sessions to the upstream (h2c, h2 over verified TLS, or h2c over a unix socket): another session
// when the open ones are at their stream limit, and a cap on one caller connection's streams.
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import net from 'node:net';
import type { Config } from '../config/types.js';
import type { UpstreamTarget } from './target.js';

export interface UpstreamSessions {
  /** Whether `owner` (a caller connection) already has --upstream-streams-per-connection streams open upstream. */
  callerAtLimit(owner: object): boolean;
  /**
   * Opens an upstream stream for `owner` on the least busy session that has room under the upstream's advertised
   * SETTINGS_MAX_CONCURRENT_STREAMS, connecting another session when none has (up to --upstream-max-connections);
   * with every session full, on the least busy one, where nghttp2 queues it until a stream ends. Throws when no
   * session can be made (shut down) or the caller connection is at its limit (check `callerAtLimit` first).
   */
  request(headers: OutgoingHttpHeaders, owner: object): ClientHttp2Stream;
  /** Sessions currently open (for tests and logs). */
  sessionCount(): number;
  /** Destroys every session (at shutdown, after the listener drained). */
  close(): void;
}

// Wider flow-control windows than HTTP/2's 64 KiB default, so one stream is not capped at a window per round trip;
// still bounded per stream, so a slow caller cannot make the proxy buffer more than this from the upstream.
const STREAM_WINDOW = 1 << 20;
const SESSION_WINDOW = 16 << 20;
/** What nghttp2 assumes of a peer until its first SETTINGS arrive. */
const DEFAULT_STREAM_LIMIT = 100;

interface Pooled {
  session: ClientHttp2Session;
  active: number;
  settled: boolean;
}

function isUsable(entry: Pooled): boolean {
  return !entry.session.closed && !entry.session.destroyed;
}

export function createUpstreamSessions(target: UpstreamTarget, limits: Config['limits']): UpstreamSessions {
  const maxSessions = limits.upstreamMaxConnections;
  const perCaller = limits.upstreamStreamsPerConnection;
  const { address, tls } = target;
  const pool = new Set<Pooled>();
  const callerStreams = new WeakMap<object, number>();
  let closed = false;
  // A new session's SETTINGS are not known yet: assume what the same upstream advertised last.
  let assumedLimit = DEFAULT_STREAM_LIMIT;
  const capacityOf = (entry: Pooled): number =>
    entry.settled ? (entry.session.remoteSettings.maxConcurrentStreams ?? DEFAULT_STREAM_LIMIT) : assumedLimit;

  const connect = (): Pooled => {
    // http:// and unix: mean h2c with prior knowledge, as gRPC servers expect; https:// is verified like every kind.
    const options: SecureClientSessionOptions = {
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      ...tls,
    };
    if ('socketPath' in address) options.createConnection = () => net.connect(address.socketPath);
    const session = http2.connect(target.origin, options);
    const entry: Pooled = { session, active: 0, settled: false };
    const forget = (): void => {
      pool.delete(entry);
    };
    // A failed session fails its streams (they report it); the session error itself only retires the session.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('remoteSettings', (settings) => {
      entry.settled = true;
      assumedLimit = settings.maxConcurrentStreams ?? DEFAULT_STREAM_LIMIT;
    });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    pool.add(entry);
    return entry;
  };

  const pick = (): Pooled => {
    let best: Pooled | undefined;
    for (const entry of pool) {
      if (!isUsable(entry)) {
        pool.delete(entry);
        continue;
      }
      if (best === undefined || entry.active - capacityOf(entry) < best.active - capacityOf(best)) best = entry;
    }
    if (best !== undefined && best.active < capacityOf(best)) return best;
    if (pool.size < maxSessions) return connect();
    return best ?? connect();
  };

  return {
    callerAtLimit: (owner) => (callerStreams.get(owner) ?? 0) >= perCaller,
    request(headers, owner) {
      if (closed) throw new Error('upstream sessions closed');
      const entry = pick();
      const stream = entry.session.request(headers);
      entry.active += 1;
      callerStreams.set(owner, (callerStreams.get(owner) ?? 0) + 1);
      stream.once('close', () => {
        entry.active -= 1;
        callerStreams.set(owner, (callerStreams.get(owner) ?? 1) - 1);
      });
      return stream;
    },
    sessionCount: () => pool.size,
    close() {
      closed = true;
      for (const entry of pool) entry.session.destroy();
      pool.clear();
    },
  };
}
