// Checks a verified chain against loaded CRLs: each CRL judges only the certificates its issuer signed.
import type { X509Certificate } from 'node:crypto';
import type { ParsedCrl } from './crl.js';

/** Uppercase hex without colons or leading zero bytes, so serials from any source compare equal. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toUpperCase();
  const trimmed = hex.replace(/^(00)+/, '');
  return trimmed === '' ? '00' : trimmed;
}

function crlJudges(crl: ParsedCrl, cert: X509Certificate): boolean {
  return cert.checkIssued(crl.issuer) && cert.verify(crl.issuer.publicKey);
}

/** True when any certificate of the chain (leaf first) is listed by a CRL of the CA that issued it. */
export function isChainRevoked(chain: readonly X509Certificate[], crls: readonly ParsedCrl[]): boolean {
  if (crls.length === 0) return false;
  for (const cert of chain) {
    const serial = normalizeSerial(cert.serialNumber);
    for (const crl of crls) {
      if (crl.revokedSerials.has(serial) && crlJudges(crl, cert)) return true;
    }
  }
  return false;
}
