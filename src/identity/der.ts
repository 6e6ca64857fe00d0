// A minimal, bounds-checked DER reader: just enough to walk an X.509 certificate without trusting its bytes.

/** The only error this module throws; callers catch it to turn hostile input into a refusal. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const TAG_CLASS_UNIVERSAL = 0;
export const TAG_CLASS_CONTEXT = 2;

export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_SEQUENCE = 0x10;
export const TAG_SET = 0x11;

/** One TLV. `value` and `raw` are views into the input buffer, never copies. */
export interface DerNode {
  tagClass: number;
  constructed: boolean;
  tagNumber: number;
  /** Offset of the tag byte within the buffer the node was read from. */
  start: number;
  /** Offset just past the value. */
  end: number;
  value: Buffer;
  /** The whole TLV: tag, length and value. */
  raw: Buffer;
}

// Far above anything a certificate needs, low enough that a crafted input cannot make us loop for long.
const MAX_CHILDREN = 100_000;
const MAX_OID_ARCS = 64;

/** Reads one TLV starting at `offset`; every length is checked against the end of `buf`. */
export function readNode(buf: Buffer, offset = 0): DerNode {
  if (offset < 0 || offset >= buf.length) throw new DerError('DER: unexpected end of data at tag');
  const first = buf[offset] as number;
  let pos = offset + 1;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      if (i >= 4) throw new DerError('DER: tag number too large');
      if (pos >= buf.length) throw new DerError('DER: truncated tag');
      const b = buf[pos++] as number;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= buf.length) throw new DerError('DER: truncated length');
  const lenByte = buf[pos++] as number;
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else {
    const count = lenByte & 0x7f;
    // 0x80 is BER's indefinite length, never valid in DER; more than 4 length bytes cannot fit a certificate.
    if (count === 0) throw new DerError('DER: indefinite length');
    if (count > 4) throw new DerError('DER: length too large');
    if (pos + count > buf.length) throw new DerError('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos++] as number);
  }
  const end = pos + length;
  if (end > buf.length) throw new DerError('DER: value runs past the end of data');
  return {
    tagClass: first >> 6,
    constructed: (first & 0x20) !== 0,
    tagNumber,
    start: offset,
    end,
    value: buf.subarray(pos, end),
    raw: buf.subarray(offset, end),
  };
}

/** Reads a buffer that must hold exactly one TLV. */
export function readSingleNode(buf: Buffer): DerNode {
  const node = readNode(buf, 0);
  if (node.end !== buf.length) throw new DerError('DER: trailing bytes after the outer element');
  return node;
}

/** The TLVs inside a constructed node, in order. */
export function readChildren(node: DerNode): DerNode[] {
  if (!node.constructed) throw new DerError('DER: expected a constructed element');
  const children: DerNode[] = [];
  let pos = 0;
  while (pos < node.value.length) {
    if (children.length >= MAX_CHILDREN) throw new DerError('DER: too many elements');
    const child = readNode(node.value, pos);
    children.push(child);
    pos = child.end;
  }
  return children;
}

export function isUniversal(node: DerNode, tagNumber: number): boolean {
  return node.tagClass === TAG_CLASS_UNIVERSAL && node.tagNumber === tagNumber;
}

export function isContext(node: DerNode, tagNumber: number): boolean {
  return node.tagClass === TAG_CLASS_CONTEXT && node.tagNumber === tagNumber;
}

/** Throws unless `node` is the given universal type; returns it for chaining. */
export function expectUniversal(node: DerNode | undefined, tagNumber: number, what: string): DerNode {
  if (!node || !isUniversal(node, tagNumber)) throw new DerError(`DER: expected ${what}`);
  return node;
}

/** Dotted-decimal form of an OBJECT IDENTIFIER. */
export function readOid(node: DerNode): string {
  if (!isUniversal(node, TAG_OID) || node.constructed) throw new DerError('DER: expected an OID');
  const bytes = node.value;
  if (bytes.length === 0) throw new DerError('DER: empty OID');
  const arcs: bigint[] = [];
  let current = 0n;
  let started = false;
  for (const b of bytes) {
    // A leading 0x80 would be a non-minimal encoding of an arc.
    if (!started && b === 0x80) throw new DerError('DER: non-minimal OID arc');
    started = true;
    current = (current << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(current);
      if (arcs.length > MAX_OID_ARCS) throw new DerError('DER: OID too long');
      current = 0n;
      started = false;
    }
  }
  if (started) throw new DerError('DER: truncated OID');
  const [firstArc, ...rest] = arcs as [bigint, ...bigint[]];
  const top = firstArc < 40n ? 0n : firstArc < 80n ? 1n : 2n;
  return [top, firstArc - top * 40n, ...rest].map(String).join('.');
}

/** Content bytes of an INTEGER (two's complement, big-endian). */
export function readIntegerBytes(node: DerNode): Buffer {
  if (!isUniversal(node, TAG_INTEGER) || node.constructed) throw new DerError('DER: expected an INTEGER');
  if (node.value.length === 0) throw new DerError('DER: empty INTEGER');
  return node.value;
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d{1,9})?Z$/;

/** UTCTime or GeneralizedTime as a Date (seconds precision, as X.509 profiles require). */
export function readTime(node: DerNode): Date {
  const text = node.value.toString('latin1');
  let parts: RegExpExecArray | null = null;
  let year: number;
  if (isUniversal(node, TAG_UTC_TIME)) {
    parts = UTC_TIME.exec(text);
    if (!parts) throw new DerError('DER: malformed UTCTime');
    const yy = Number(parts[1]);
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (isUniversal(node, TAG_GENERALIZED_TIME)) {
    parts = GENERALIZED_TIME.exec(text);
    if (!parts) throw new DerError('DER: malformed GeneralizedTime');
    year = Number(parts[1]);
    // Date.UTC maps years below 100 to 19xx; no real certificate is dated in the first century.
    if (year < 100) throw new DerError('DER: time out of range');
  } else {
    throw new DerError('DER: expected a time');
  }
  const [mo, d, h, mi, s] = [2, 3, 4, 5, 6].map((i) => Number(parts[i]));
  const ms = Date.UTC(year, (mo as number) - 1, d, h, mi, s);
  const date = new Date(ms);
  if (
    Number.isNaN(ms) ||
    date.getUTCMonth() !== (mo as number) - 1 ||
    date.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (s as number) > 59
  ) {
    throw new DerError('DER: time out of range');
  }
  return date;
}
