// Removes hop-by-hop headers from an upstream response before it is relayed (RFC 9110 §7.6.1): they describe the upstream hop, not ours.
import type { IncomingHttpHeaders } from 'node:http';
import { normalizeHeaderName, parseConnectionTokens } from '../http/header-sanitize.js';

/**
 * Without this, the proxy would copy an HTTP/1.1 upstream's `Connection: keep-alive` and `Keep-Alive: timeout=5` to
 * the caller: Node then keeps a connection open that the caller asked to close, and the caller learns the
 * upstream's idle timeout instead of ours. Names the upstream lists in `Connection` go too (framing and `host`
 * excepted, as on the request side).
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

export function stripHopByHopResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = parseConnectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || (listed !== null && listed.has(normalizeHeaderName(lower)))) continue;
    out[lower] = value;
  }
  return out;
}
