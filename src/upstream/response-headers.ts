// The upstream's response head as the caller gets it: hop-by-hop headers removed (RFC 9110 §7.6.1), they describe the upstream hop, not ours.
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { normalizeHeaderName, parseConnectionTokens } from '../http/header-sanitize.js';

/**
 * Relayed as they are, these would hand the caller an HTTP/1.1 upstream's `Connection: keep-alive` and
 * `Keep-Alive: timeout=5`: Node then keeps a connection open that the caller asked to close, and the caller learns
 * the upstream's idle timeout instead of ours. Names the upstream lists in `Connection` go too (framing and `host`
 * excepted, as on the request side).
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

type LowerCasedName = (name: Buffer) => string;

// undici's own reader for header names (loaded with its pool anyway): well-known names come from a lookup tree as
// interned lower-case strings, without decoding the bytes. Anything else is decoded and lower-cased here.
const undiciUtil = createRequire(import.meta.url)('undici/lib/core/util.js') as { bufferToLowerCasedHeaderName?: LowerCasedName };
const lowerCasedName: LowerCasedName = undiciUtil.bufferToLowerCasedHeaderName ?? ((name) => name.toString('latin1').toLowerCase());

/**
 * The upstream's response head (undici's raw name/value pairs) as a `writeHead` object: names lower-cased, a
 * repeated name as an array of its values in order, hop-by-hop names and the names listed in `Connection` left out.
 */
export function relayableResponseHeaders(rawHeaders: readonly Buffer[]): IncomingHttpHeaders {
  const names: string[] = [];
  const connection: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = lowerCasedName(rawHeaders[i] as Buffer);
    names.push(name);
    if (name === 'connection') connection.push((rawHeaders[i + 1] as Buffer).toString('latin1'));
  }
  // A single value goes as a string: parseConnectionTokens answers the usual `keep-alive` / `close` at once.
  const listed = parseConnectionTokens(connection.length <= 1 ? connection[0] : connection);
  const out: IncomingHttpHeaders = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = names[i / 2] as string;
    if (HOP_BY_HOP.has(name) || (listed !== null && listed.has(normalizeHeaderName(name)))) continue;
    const value = (rawHeaders[i + 1] as Buffer).toString('latin1');
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}
