// Distinguished names: DER Name → decoded attributes → RFC 4514 string that is printable ASCII only.
import { escapeCodePoint } from './printable.js';
import type { NameAttribute } from './types.js';
import {
  DerError,
  TAG_CLASS_UNIVERSAL,
  TAG_OID,
  TAG_SEQUENCE,
  TAG_SET,
  expectUniversal,
  readChildren,
  readOid,
  type DerNode,
} from './der.js';

/** A NameAttribute that remembers its DER value, so types without a string form can be written as `#hex`. */
export interface DerNameAttribute extends NameAttribute {
  /** The attribute value's whole TLV, as in the certificate. */
  valueDer?: Buffer;
  /** False when the value is not a string type; `value` is then '#' + hex of `valueDer`. */
  isString?: boolean;
}

/** The only names RFC 4514 section 3 lets us write; every other type is written as a dotted OID. */
const RFC4514_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.6', 'C'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** Display names for NameAttribute.type (openssl's short names) beyond the RFC 4514 set. */
const DISPLAY_NAMES: ReadonlyMap<string, string> = new Map([
  ...RFC4514_NAMES,
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.12', 'title'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
]);

const UTF8_STRING = 12;
const NUMERIC_STRING = 18;
const PRINTABLE_STRING = 19;
const TELETEX_STRING = 20;
const IA5_STRING = 22;
const VISIBLE_STRING = 26;
const UNIVERSAL_STRING = 28;
const BMP_STRING = 30;

// Strict: a leading U+FEFF is a character of the name, not a byte-order mark to drop (`ignoreBOM`), and bytes that
// are not valid in the encoding are never replaced with U+FFFD (`fatal`): such a value is kept as `#hex` DER.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf16beDecoder = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

function decodeUtf32be(bytes: Buffer): string | null {
  if (bytes.length % 4 !== 0) return null;
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const cp = bytes.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    out += String.fromCodePoint(cp);
  }
  return out;
}

function decodeStrict(decoder: TextDecoder, bytes: Buffer): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Decodes the directory string types; null for anything else and for bytes invalid in their encoding (never
 * repaired: the caller keeps the DER). One-byte types are read as Latin-1, as openssl does, so each byte maps
 * to exactly one character and nothing is dropped.
 */
export function decodeDirectoryString(node: DerNode): string | null {
  if (node.tagClass !== TAG_CLASS_UNIVERSAL || node.constructed) return null;
  switch (node.tagNumber) {
    case UTF8_STRING:
      return decodeStrict(utf8Decoder, node.value);
    case NUMERIC_STRING:
    case PRINTABLE_STRING:
    case TELETEX_STRING:
    case IA5_STRING:
    case VISIBLE_STRING:
      return node.value.toString('latin1');
    case BMP_STRING:
      return decodeStrict(utf16beDecoder, node.value);
    case UNIVERSAL_STRING:
      return decodeUtf32be(node.value);
    default:
      return null;
  }
}

/** Reads a DER Name; RDNs most specific first, attributes within an RDN in the order openssl prints them. */
export function readName(name: DerNode): DerNameAttribute[][] {
  expectUniversal(name, TAG_SEQUENCE, 'a Name SEQUENCE');
  const rdns: DerNameAttribute[][] = [];
  for (const set of readChildren(name)) {
    expectUniversal(set, TAG_SET, 'an RDN SET');
    const rdn: DerNameAttribute[] = [];
    for (const pair of readChildren(set)) {
      expectUniversal(pair, TAG_SEQUENCE, 'an AttributeTypeAndValue');
      const [typeNode, valueNode, extra] = readChildren(pair);
      if (!typeNode || !valueNode || extra) throw new DerError('DER: malformed AttributeTypeAndValue');
      const oid = readOid(expectUniversal(typeNode, TAG_OID, 'an attribute type'));
      const decoded = decodeDirectoryString(valueNode);
      rdn.push({
        type: DISPLAY_NAMES.get(oid) ?? oid,
        oid,
        value: decoded ?? `#${toHex(valueNode.raw)}`,
        valueDer: valueNode.raw,
        isString: decoded !== null,
      });
    }
    if (rdn.length === 0) throw new DerError('DER: empty RDN');
    // openssl's RFC2253 output walks the flattened entries backwards, reversing multi-valued RDNs too.
    rdns.push(rdn.reverse());
  }
  return rdns.reverse();
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function isPrintableAscii(cp: number): boolean {
  return cp >= 0x20 && cp <= 0x7e;
}

/** Only the `\XX` part: every character outside printable ASCII becomes `\XX` of its UTF-8 bytes. */
export { escapeNonPrintable } from './printable.js';

const SPECIALS = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

/**
 * RFC 4514 escaping of one attribute value, plus `\XX` for everything outside printable ASCII. A space at the
 * start or end is written `\20` (RFC 4514 allows it as well as `\ `): HTTP strips whitespace at the edges of a
 * field value (RFC 9110 §5.5), so `\ ` at the end of a header would arrive as a dangling `\`.
 */
export function escapeRfc4514Value(value: string): string {
  const chars = Array.from(value);
  let out = '';
  chars.forEach((ch, i) => {
    const cp = ch.codePointAt(0) as number;
    if (!isPrintableAscii(cp)) out += escapeCodePoint(ch, 0).text;
    else if (SPECIALS.has(ch)) out += `\\${ch}`;
    else if (ch === ' ' && (i === 0 || i === chars.length - 1)) out += '\\20';
    else if (ch === '#' && i === 0) out += '\\#';
    else out += ch;
  });
  return out;
}

/** UTF8String TLV for a value that arrived without its DER (attributes built by hand). */
function encodeUtf8StringDer(value: string): Buffer {
  const body = Buffer.from(value, 'utf8');
  const len = body.length;
  const lenBytes = len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : len < 0x10000 ? [0x82, len >> 8, len & 0xff] : null;
  if (!lenBytes) throw new RangeError('attribute value too long');
  return Buffer.concat([Buffer.from([UTF8_STRING, ...lenBytes]), body]);
}

/** One `type=value` pair; dotted OIDs and non-string values use `#` + hex DER as RFC 4514 section 2.4 asks. */
export function formatAttribute(attr: DerNameAttribute): string {
  const name = RFC4514_NAMES.get(attr.oid);
  if (name && attr.isString !== false) return `${name}=${escapeRfc4514Value(attr.value)}`;
  const der = attr.valueDer ?? encodeUtf8StringDer(attr.value);
  return `${name ?? attr.oid}=#${toHex(der)}`;
}

/** RDNs already in output order (most specific first); multi-valued RDNs joined with '+'. */
export function formatRfc4514(rdns: NameAttribute[][]): string {
  return rdns.map((rdn) => rdn.map((attr) => formatAttribute(attr)).join('+')).join(',');
}
