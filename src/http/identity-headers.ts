// Strips forged and hop-by-hop headers from a request, then sets the caller's identity headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../identity/types.js';
import { listsToken, normalizeHeaderName, parseConnectionTokens, STRIPPED_HEADER_NAMES } from './header-sanitize.js';
import { escapeNonPrintable, escapeWith, LIST_ITEM } from '../identity/printable.js';
import { formatXfcc } from './xfcc.js';

export type IdentityHeaders = ReadonlyArray<readonly [string, string]>;

/** SAN list: items joined by `,` with `,` `"` `\` space and non-printable bytes inside an item as `\XX`. */
function formatSanList(values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += escapeWith(values[i] ?? '', LIST_ITEM);
  }
  return out;
}

/** X.509 times have whole seconds, so the milliseconds toISOString adds are noise: `2027-01-01T00:00:00Z`. */
function formatNotAfter(date: Date): string | undefined {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return undefined;
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * Computed ONCE per TLS connection: the identity headers as [lowercase-name, value] pairs, every value
 * printable ASCII. X-Client-CN, X-Client-URI and X-Client-DNS are omitted when the certificate has no such
 * field (an incoming header of that name is still stripped), so "absent" always means "none". Client-Cert
 * (RFC 9440, `:base64 DER:`) and XFCC `Cert=` only with `forwardCert`.
 */
export function buildIdentityHeaders(id: Identity, opts: { forwardCert: boolean }): IdentityHeaders {
  const pairs: Array<readonly [string, string]> = [];
  // subject and cnEscaped are printable by contract; escaping again is a no-op then and a safety net if not.
  pairs.push(['x-client-subject', escapeNonPrintable(id.subject)]);
  pairs.push(['x-client-issuer', escapeNonPrintable(id.issuer)]);
  if (id.cnEscaped !== '') pairs.push(['x-client-cn', escapeNonPrintable(id.cnEscaped)]);
  pairs.push(['x-client-serial', escapeNonPrintable(id.serial)]);
  pairs.push(['x-client-fingerprint-sha256', escapeNonPrintable(id.fingerprint256)]);
  if (id.uris.length > 0) pairs.push(['x-client-uri', formatSanList(id.uris)]);
  if (id.dns.length > 0) pairs.push(['x-client-dns', formatSanList(id.dns)]);
  const notAfter = formatNotAfter(id.notAfter);
  if (notAfter !== undefined) pairs.push(['x-client-not-after', notAfter]);
  pairs.push(['x-forwarded-client-cert', formatXfcc(id, opts.forwardCert)]);
  if (opts.forwardCert) pairs.push(['client-cert', `:${id.der.toString('base64')}:`]);
  return Object.freeze(pairs);
}

function copyValue(value: string | string[]): string | string[] {
  return typeof value === 'string' ? value : [...value];
}

function mergeValues(prev: string | string[], value: string | string[]): string[] {
  return [...(typeof prev === 'string' ? [prev] : prev), ...(typeof value === 'string' ? [value] : value)];
}

/** Folds every key that normalizes to `connection` into one `connection` key (only for hand-built objects). */
function foldConnectionKeys(incoming: IncomingHttpHeaders): IncomingHttpHeaders {
  const folded: IncomingHttpHeaders = {};
  let connection: string[] = [];
  for (const key of Object.keys(incoming)) {
    const value = incoming[key];
    if (value === undefined) continue;
    if (normalizeHeaderName(key) === 'connection') connection = connection.concat(value);
    else folded[key] = value;
  }
  folded.connection = connection.join(', ');
  return folded;
}

/**
 * Per request: the outgoing header object for the upstream, built in one pass over the incoming headers.
 * Dropped: pseudo-headers, STRIPPED_HEADER_NAMES, every name listed in `Connection` (except framing,
 * `host` and `upgrade`), `te` unless it is exactly `trailers`, `upgrade` unless this is a WebSocket
 * handshake (`Upgrade: websocket` with `Connection: upgrade`, so an `h2c` upgrade cannot tunnel past the
 * per-request checks; a handshake's Upgrade is forwarded as `websocket` alone). Names compare lower-cased with
 * `_` as `-`; kept names are forwarded lower-cased.
 * Then the identity headers, X-Forwarded-For/-Proto/-Host and X-Request-Id are set, replacing any value.
 * `host` and the body framing headers are passed through for the proxy layer to decide. `facts.strip` holds the
 * operator's extra names (`--strip-header`, normalized), removed like the built-in ones.
 */
/** Headers that decide message framing or routing; only their canonical spelling is ever forwarded. */
const FRAMING_HEADER_NAMES: ReadonlySet<string> = new Set([
  'transfer-encoding',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
]);

export function composeUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  identityHeaders: IdentityHeaders,
  facts: { remoteAddress: string; host: string | undefined; requestId: string; strip?: ReadonlySet<string> },
): Record<string, string | string[]> {
  const strip = facts.strip;
  const out: Record<string, string | string[]> = {};
  const connection = incoming.connection;
  const dropped = parseConnectionTokens(connection);
  for (const key of Object.keys(incoming)) {
    const value = incoming[key];
    if (value === undefined || key.charCodeAt(0) === 58 /* ':' */) continue;
    const name = normalizeHeaderName(key);
    if (STRIPPED_HEADER_NAMES.has(name)) {
      if (name === 'connection' && key !== 'connection') {
        return composeUpstreamHeaders(foldConnectionKeys(incoming), identityHeaders, facts);
      }
      continue;
    }
    if ((dropped !== null && dropped.has(name)) || (strip !== undefined && strip.has(name))) continue;
    // `Transfer_Encoding`, `Content_Length`, `Host_`…: an upstream that folds `_` into `-` would frame or
    // route the request differently from the proxy, so such spellings never pass.
    if (FRAMING_HEADER_NAMES.has(name) && key.indexOf('_') !== -1) continue;
    if (name === 'te') {
      if (typeof value === 'string' && value.trim().toLowerCase() === 'trailers') out.te = 'trailers';
      continue;
    }
    if (name === 'upgrade') {
      // Only ever `websocket`: another protocol listed beside it (`websocket, h2c`) is not the proxy's to offer.
      if (listsToken(connection, 'upgrade') && listsToken(value, 'websocket')) out.upgrade = 'websocket';
      continue;
    }
    const lower = key === name ? key : key.toLowerCase();
    if (lower === '__proto__') continue;
    const prev = out[lower];
    out[lower] = prev === undefined ? copyValue(value) : mergeValues(prev, value);
  }
  for (const [name, value] of identityHeaders) out[name] = value;
  const remote = escapeNonPrintable(facts.remoteAddress ?? '');
  if (remote !== '') out['x-forwarded-for'] = remote;
  out['x-forwarded-proto'] = 'https';
  const host = facts.host === undefined ? '' : escapeWith(facts.host, LIST_ITEM);
  if (host !== '') out['x-forwarded-host'] = host;
  out['x-request-id'] = escapeWith(facts.requestId, LIST_ITEM);
  return out;
}
