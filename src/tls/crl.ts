// CRL parsing (stub until revocation lands): each CRL is tied to the CA that signed it.
import type { X509Certificate } from 'node:crypto';

export interface ParsedCrl {
  /** The loaded CA whose key signed this CRL. */
  issuer: X509Certificate;
  /** Serials (uppercase hex, no leading zero bytes) revoked by this CRL. */
  revokedSerials: ReadonlySet<string>;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export function parseCrlPem(_text: string, _caCerts: X509Certificate[]): ParsedCrl[] {
  throw new Error('CRL support is not available in this build');
}
