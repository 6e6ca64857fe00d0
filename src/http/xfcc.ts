// Formats the caller's identity as one Envoy X-Forwarded-Client-Cert element (computed once per connection).
import type { Identity } from '../identity/types.js';
import { escapeCodePoint } from '../identity/printable.js';

/*
 * Envoy's grammar: elements separated by `,`, key=value pairs by `;`; a value holding `,` `;` `=` or `"`
 * is double-quoted with `"` written `\"`; Subject is always quoted. Keys in Envoy's order: By, Hash,
 * Cert, Chain, Subject, URI, DNS (we have no By or Chain). On top of that:
 * - inside quotes `\` is written `\\`, so a backslash can never end or fake the quoting;
 * - every byte outside printable ASCII is written `\XX` (UTF-8, uppercase hex), quoted or not;
 * - a raw `\` or a space also forces quoting, so in an unquoted value `\` only ever starts `\XX`
 *   and nothing a reader might trim sits at an edge.
 * Decoding is therefore unambiguous: `\"` → `"`, `\\` → `\`, `\XX` → byte.
 */

/** 0 plain, 1 forces quoting, 2 forces quoting and gets a backslash, 3 written `\XX`. */
const CLASS = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) CLASS[c] = 3;
CLASS[0x7f] = 3;
for (const ch of ',;= ') CLASS[ch.charCodeAt(0)] = 1;
for (const ch of '"\\') CLASS[ch.charCodeAt(0)] = 2;

/** A value in XFCC form, quoted when needed or when `alwaysQuote`. */
export function encodeXfccValue(value: string, alwaysQuote = false): string {
  let quote = alwaysQuote;
  let out = '';
  let start = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    const cls = c >= 0x80 ? 3 : (CLASS[c] ?? 0);
    if (cls === 0) {
      i++;
      continue;
    }
    if (cls === 1) {
      quote = true;
      i++;
      continue;
    }
    out += value.slice(start, i);
    if (cls === 2) {
      quote = true;
      out += '\\' + value.charAt(i);
      i++;
    } else {
      const esc = escapeCodePoint(value, i);
      out += esc.text;
      i += esc.width;
    }
    start = i;
  }
  out += value.slice(start);
  return quote ? `"${out}"` : out;
}

/** PEM of a DER certificate with 64-column lines, as openssl writes it. */
export function encodePem(der: Buffer): string {
  const b64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/**
 * One XFCC element: `Hash=…[;Cert="…"];Subject="…"[;URI=…]*[;DNS=…]*`. With `cert`, the leaf PEM is
 * URL-encoded as Envoy does (encodeURIComponent leaves only base64 letters, digits, `-` and `%XX`) and quoted.
 */
export function formatXfcc(id: Identity, cert: boolean): string {
  let out = `Hash=${encodeXfccValue(id.fingerprint256)}`;
  if (cert) out += `;Cert="${encodeURIComponent(encodePem(id.der))}"`;
  out += `;Subject=${encodeXfccValue(id.subject, true)}`;
  for (const uri of id.uris) out += `;URI=${encodeXfccValue(uri)}`;
  for (const dns of id.dns) out += `;DNS=${encodeXfccValue(dns)}`;
  return out;
}
