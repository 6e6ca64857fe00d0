// Finds the peer's certificate in a serialized TLS session (OpenSSL's SSL_SESSION DER, as Node's getSession() gives
// it).
import { DerError, TAG_SEQUENCE, expectUniversal, isContext, readChildren, readSingleNode } from '../identity/der.js';

/**
 * The DER of the peer certificate in an SSL_SESSION (OpenSSL ssl/ssl_asn1.c: a SEQUENCE whose `peer` field is the
 * certificate under an explicit [3] tag), copied out; null when the session has none or cannot be read. The
 * session also holds its master key, so the caller wipes the buffer once this returns.
 */
export function peerCertificateOfSession(session: Buffer): Buffer | null {
  try {
    const fields = readChildren(expectUniversal(readSingleNode(session), TAG_SEQUENCE, 'an SSL_SESSION'));
    const peer = fields.find((f) => f.constructed && isContext(f, 3));
    if (peer === undefined) return null;
    const [cert, extra] = readChildren(peer);
    if (cert === undefined || extra !== undefined) return null;
    return Buffer.from(expectUniversal(cert, TAG_SEQUENCE, 'a certificate').raw);
  } catch (err) {
    if (err instanceof DerError) return null;
    throw err;
  }
}
