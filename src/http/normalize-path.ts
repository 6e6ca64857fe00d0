// Turns a raw HTTP request target into the one canonical path that is both judged by policy and forwarded upstream.
//
// Decisions:
// - Only origin-form targets (`/…`) are accepted; absolute-form (`http://h/x`), authority-form and `*` are refused:
//   this is a reverse proxy, and a second spelling of the path is a second chance to disagree with the upstream.
// - The query (from the first `?`) is returned byte-for-byte and never inspected.
// - Percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded; every other escape is kept with
//   its hex upper-cased, so `/%61dmin` and `/admin` are the same path while `%3F` stays data.
// - Refused outright, because some upstream would read them differently from us: an encoded `/` or `\`, a raw `\`,
//   NUL and every other control byte (raw or encoded), raw bytes outside printable ASCII, malformed escapes,
//   `;` raw or encoded (Tomcat/Jetty strip `;params` from segments, so `/admin;x` would reach `/admin`),
//   a raw `#` (a fragment delimiter to some parsers), an encoded `%` that encodes one of the above
//   (`%252e`, `%252f`: defeats upstreams that decode twice), a dot-segment written with an encoded dot
//   (`%2e%2e`, `.%2e`), and a `..` that climbs above the root.
// - Raw `"` `<` `>` `` ` `` `{` `}` (not allowed in a URI path) are percent-encoded: the WHATWG URL parser that builds
//   the upstream request encodes exactly these, so encoding them here keeps the judged path the forwarded one.
// - `//` runs are merged, `.` and `..` resolved per RFC 3986 §5.2.4; a trailing slash is kept.
// - Paths stay case-sensitive (RFC 3986): `/ADMIN` is not `/admin`.

export type NormalizedPath =
  | { ok: true; path: string; query: string /* including leading '?' or '' — untouched */ }
  | { ok: false; reason: string };

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Raw path characters the WHATWG URL parser percent-encodes (besides space, `#`, `?` and controls, refused or split
 * off here).
 */
const ENCODED_BY_URL_PARSER = new Set(['"', '<', '>', '`', '{', '}']);

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

/** Escapes that must never appear, even double-encoded behind `%25`. */
function refuseEscape(byte: number): string | null {
  if (byte === 0x2f) return 'encoded "/" (%2F) in path';
  if (byte === 0x5c) return 'encoded "\\" (%5C) in path';
  if (byte === 0x00) return 'encoded NUL (%00) in path';
  if (byte < 0x20 || byte === 0x7f) return 'encoded control character in path';
  if (byte === 0x3b) return 'encoded ";" (%3B) in path';
  return null;
}

interface Segment {
  text: string;
  encodedDot: boolean;
}

/** Decodes and validates one raw segment (no `/` inside); returns the segment or a refusal reason. */
function decodeSegment(raw: string): Segment | string {
  let text = '';
  let encodedDot = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return code === 0 ? 'NUL in path' : 'control character in path';
    if (code > 0x7e) return 'non-ASCII byte in path (percent-encode it)';
    if (ch === ' ') return 'space in path';
    if (ch === '\\') return 'backslash in path';
    if (ch === ';') return 'path parameter (";") in path';
    if (ch === '#') return 'raw "#" in path';
    if (ENCODED_BY_URL_PARSER.has(ch)) {
      text += '%' + code.toString(16).toUpperCase();
      continue;
    }
    if (ch !== '%') {
      text += ch;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return 'malformed percent-escape in path';
    const byte = parseInt(hex, 16);
    const refused = refuseEscape(byte);
    if (refused) return refused;
    if (byte === 0x25) {
      // `%25` followed by an escape we refuse is a double-encoding attempt (`%252e%252e`, `%252f`).
      const inner = raw.slice(i + 3, i + 5);
      if (HEX.test(inner)) {
        const innerByte = parseInt(inner, 16);
        if (innerByte === 0x2e || refuseEscape(innerByte)) return 'double-encoded escape in path';
      }
    }
    if (isUnreserved(byte)) {
      text += String.fromCharCode(byte);
      if (byte === 0x2e) encodedDot = true;
    } else {
      text += '%' + hex.toUpperCase();
    }
    i += 2;
  }
  return { text, encodedDot };
}

/**
 * Path bytes that the full algorithm copies through unchanged: unreserved characters, the sub-delimiters and `:` `@`
 * except `;` (refused), and `/`. Everything else (`%`, backslash, `;`, `#`, space, controls, non-ASCII, the characters
 * the URL parser encodes) takes the full path, and so does a `.` opening a segment (`.` and `..` are dot-segments).
 */
const VERBATIM = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/")
  VERBATIM[ch.charCodeAt(0)] = 1;

/**
 * The path part of a target when normalization would return it unchanged (no escapes, dot-segments or `//`), else
 * null.
 */
function verbatimPath(rawPath: string): string | null {
  let previous = 0x2f;
  for (let i = 1; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (code >= 128 || VERBATIM[code] === 0) return null;
    if (previous === 0x2f && (code === 0x2f || code === 0x2e)) return null; // `//` merges; `/.` may open a dot-segment
    previous = code;
  }
  return rawPath;
}

/** Normalizes an origin-form request target; never throws. */
export function normalizePath(requestTarget: string): NormalizedPath {
  if (!requestTarget.startsWith('/')) {
    return { ok: false, reason: 'request target is not origin-form (must start with "/")' };
  }
  // Most targets need no work at all: one scan, no allocation beyond the result.
  const q = requestTarget.indexOf('?');
  const rawPath = q === -1 ? requestTarget : requestTarget.slice(0, q);
  const verbatim = verbatimPath(rawPath);
  if (verbatim !== null) return { ok: true, path: verbatim, query: q === -1 ? '' : requestTarget.slice(q) };
  return normalizePathFully(requestTarget);
}

/** The full algorithm, for any target (normalizePath takes a shortcut for the common ones; a test holds them equal). */
export function normalizePathFully(requestTarget: string): NormalizedPath {
  if (!requestTarget.startsWith('/')) {
    return { ok: false, reason: 'request target is not origin-form (must start with "/")' };
  }
  const q = requestTarget.indexOf('?');
  const rawPath = q === -1 ? requestTarget : requestTarget.slice(0, q);
  const query = q === -1 ? '' : requestTarget.slice(q);

  const rawSegments = rawPath.slice(1).split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 0; i < rawSegments.length; i++) {
    const seg = decodeSegment(rawSegments[i] as string);
    if (typeof seg === 'string') return { ok: false, reason: seg };
    const last = i === rawSegments.length - 1;
    const isDot = seg.text === '.' || seg.text === '..';
    if (isDot && seg.encodedDot) return { ok: false, reason: 'dot-segment written with an encoded dot' };
    if (seg.text === '' || seg.text === '.') {
      // Empty segments (`//`) merge away; a final empty or `.` segment leaves a trailing slash.
      if (last) trailingSlash = true;
      continue;
    }
    if (seg.text === '..') {
      if (out.length === 0) return { ok: false, reason: '".." climbs above the root' };
      out.pop();
      if (last) trailingSlash = true;
      continue;
    }
    out.push(seg.text);
    trailingSlash = false;
  }
  let path = '/' + out.join('/');
  if (trailingSlash && out.length > 0) path += '/';
  return { ok: true, path, query };
}
