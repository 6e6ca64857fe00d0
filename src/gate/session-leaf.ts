// Finds the peer's certificate in a serialized TLS session (OpenSSL's SSL_SESSION DER, as Node's getSession() gives
// it).

/**
 * Tag byte, where the value starts and where it ends; null when the TLV at `offset` runs past `limit` or is not DER.
 */
function readHeader(buf: Buffer, offset: number, limit: number): { tag: number; start: number; end: number } | null {
  if (offset + 2 > limit) return null;
  const tag = buf[offset]!;
  // Multi-byte tag numbers never occur in an SSL_SESSION.
  if ((tag & 0x1f) === 0x1f) return null;
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length >= 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) return null;
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + buf[start + i]!;
    start += count;
  }
  const end = start + length;
  return end > limit ? null : { tag, start, end };
}

const SEQUENCE = 0x30;
/** [3] EXPLICIT, constructed: the `peer` field of OpenSSL's SSL_SESSION_ASN1 (ssl/ssl_asn1.c). */
const PEER_FIELD = 0xa3;

/**
 * The DER of the peer certificate in an SSL_SESSION (a SEQUENCE whose `peer` field is the certificate under an
 * explicit [3] tag), copied out; null when the session has none or cannot be read. Only the headers of the other
 * fields are read. The session also holds its master key, so the caller wipes the buffer once this returns.
 */
export function peerCertificateOfSession(session: Buffer): Buffer | null {
  const outer = readHeader(session, 0, session.length);
  if (outer === null || outer.tag !== SEQUENCE || outer.end !== session.length) return null;
  for (let offset = outer.start; offset < outer.end;) {
    const field = readHeader(session, offset, outer.end);
    if (field === null) return null;
    if (field.tag === PEER_FIELD) {
      const cert = readHeader(session, field.start, field.end);
      if (cert === null || cert.tag !== SEQUENCE || cert.end !== field.end) return null;
      return Buffer.from(session.subarray(field.start, cert.end));
    }
    offset = field.end;
  }
  return null;
}
