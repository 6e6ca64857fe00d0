// Byte-level `\XX` escaping that turns any string into printable ASCII, shared by RFC 4514 names and header values.

/** 1 = write this ASCII code unit as `\XX`; codes >= 0x80 are always escaped as UTF-8 bytes. */
export type EscapeTable = Uint8Array;

const HEX = '0123456789ABCDEF';

/** Builds a table that escapes controls, DEL and every character in `extra`. */
export function buildEscapeTable(extra = ''): EscapeTable {
  const table = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) table[c] = 1;
  table[0x7f] = 1;
  for (let i = 0; i < extra.length; i++) table[extra.charCodeAt(i) & 0x7f] = 1;
  return table;
}

/** Only bytes outside printable ASCII (0x20–0x7E). */
export const NON_PRINTABLE: EscapeTable = buildEscapeTable();

/** Items of a comma-separated header list: also `,` `"` `\` and space, so items split and trim unambiguously. */
export const LIST_ITEM: EscapeTable = buildEscapeTable(',"\\ ');

function hexByte(b: number): string {
  return '\\' + HEX.charAt(b >> 4) + HEX.charAt(b & 15);
}

/** `\XX` for each UTF-8 byte of the code point at `i`; lone surrogates become U+FFFD as Buffer.from does. */
export function escapeCodePoint(value: string, i: number): { text: string; width: number } {
  const cu = value.charCodeAt(i);
  if (cu < 0x80) return { text: hexByte(cu), width: 1 };
  if (cu < 0x800) return { text: hexByte(0xc0 | (cu >> 6)) + hexByte(0x80 | (cu & 63)), width: 1 };
  let cp = cu;
  let width = 1;
  if (cu >= 0xd800 && cu <= 0xdbff) {
    const next = value.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) {
      cp = 0x10000 + ((cu - 0xd800) << 10) + (next - 0xdc00);
      width = 2;
    } else {
      cp = 0xfffd;
    }
  } else if (cu >= 0xdc00 && cu <= 0xdfff) {
    cp = 0xfffd;
  }
  if (cp < 0x10000) {
    return {
      text: hexByte(0xe0 | (cp >> 12)) + hexByte(0x80 | ((cp >> 6) & 63)) + hexByte(0x80 | (cp & 63)),
      width,
    };
  }
  return {
    text:
      hexByte(0xf0 | (cp >> 18)) +
      hexByte(0x80 | ((cp >> 12) & 63)) +
      hexByte(0x80 | ((cp >> 6) & 63)) +
      hexByte(0x80 | (cp & 63)),
    width,
  };
}

/** Returns `value` itself when nothing needs escaping (the common case costs one scan, no allocation). */
export function escapeWith(value: string, table: EscapeTable = NON_PRINTABLE): string {
  let i = 0;
  const n = value.length;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80 || table[c] === 1) break;
  }
  if (i === n) return value;
  let out = value.slice(0, i);
  let start = i;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c < 0x80 && table[c] !== 1) {
      i++;
      continue;
    }
    out += value.slice(start, i);
    const esc = escapeCodePoint(value, i);
    out += esc.text;
    i += esc.width;
    start = i;
  }
  return out + value.slice(start);
}

/** Every byte outside printable ASCII as `\XX` uppercase hex of its UTF-8. */
export function escapeNonPrintable(value: string): string {
  return escapeWith(value, NON_PRINTABLE);
}

/** Controls (C0, DEL, C1), format and bidi controls, line/paragraph separators, lone surrogates. */
const TERMINAL_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * For text shown on a terminal: every control, format or bidi character as `\XX` of its UTF-8 (so CR, LF, ESC and
 * U+202E cannot rewrite or reorder what is shown), other UTF-8 text left readable. With `backslash`, a `\` is
 * written `\5C` too, so a literal `\0A` and an escaped LF read differently (for raw values, not RFC 4514 strings).
 */
export function escapeForTerminal(value: string, backslash = false): string {
  let out = '';
  for (const ch of value) {
    if ((backslash && ch === '\\') || TERMINAL_UNSAFE.test(ch)) out += escapeCodePoint(ch, 0).text;
    else out += ch;
  }
  return out;
}
