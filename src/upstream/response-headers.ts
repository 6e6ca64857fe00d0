// The one response-header relay policy, for every forwarding kind: what the upstream said about its own hop stays
// there.
import type { IncomingHttpHeaders } from 'node:http';
import { normalizeHeaderName, parseConnectionTokens } from '../http/header-sanitize.js';
import { lowerCasedHeaderName } from './undici-internals.js';

/**
 * Hop-by-hop names (RFC 9110 §7.6.1: Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade),
 * plus `Trailer` (this hop decides whether trailers follow) and `HTTP2-Settings` (an HTTP/1.1 upgrade offer).
 * Relayed as they are, they would hand the caller an HTTP/1.1 upstream's `Connection: keep-alive` and
 * `Keep-Alive: timeout=5`: Node then keeps a connection open that the caller asked to close, and the caller learns
 * the upstream's idle timeout instead of ours; HTTP/2 forbids all but `Trailer` (RFC 9113 §8.2.2). Names the
 * upstream lists in `Connection` go too (framing and `host` excepted, as on the request side). A `101` is the one
 * exception: its `Connection: Upgrade` is the switch itself, relayed unchanged by the WebSocket tunnel.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'http2-settings',
]);

type Listed = ReadonlySet<string> | null;

/** Whether a lower-case response header name is relayed to the caller (pseudo-headers are the caller's hop's). */
function isRelayed(name: string, listed: Listed): boolean {
  if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) return false;
  return listed === null || !listed.has(normalizeHeaderName(name));
}

function append(out: IncomingHttpHeaders, name: string, value: string | string[]): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else out[name] = [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(value) ? value : [value])];
}

/**
 * The upstream's response head (undici's raw name/value pairs) as a `writeHead` object: names lower-cased, a
 * repeated name as an array of its values in order, hop-by-hop names and the names listed in `Connection` left out.
 */
export function relayableResponseHeaders(rawHeaders: readonly Buffer[]): IncomingHttpHeaders {
  const names: string[] = [];
  const connection: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = lowerCasedHeaderName(rawHeaders[i] as Buffer);
    names.push(name);
    if (name === 'connection') connection.push((rawHeaders[i + 1] as Buffer).toString('latin1'));
  }
  // A single value goes as a string: parseConnectionTokens answers the usual `keep-alive` / `close` at once.
  const listed = parseConnectionTokens(connection.length <= 1 ? connection[0] : connection);
  const out: IncomingHttpHeaders = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = names[i / 2] as string;
    if (isRelayed(name, listed)) append(out, name, (rawHeaders[i + 1] as Buffer).toString('latin1'));
  }
  return out;
}

/**
 * The same policy over a parsed head (node:http or node:http2: names already lower case). Pseudo-headers are
 * dropped; gRPC keeps `:status` with `keepStatus`, as it answers with `stream.respond`.
 */
export function relayableHeaderObject(
  headers: IncomingHttpHeaders,
  opts: { keepStatus?: boolean } = {},
): IncomingHttpHeaders {
  const listed = parseConnectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (isRelayed(name, listed) || (opts.keepStatus === true && name === ':status')) out[name] = value;
  }
  return out;
}
