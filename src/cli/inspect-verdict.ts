// What `run` would decide at the TLS handshake for a certificate (and the certificates sent with it), for `inspect`.
//
// The chain, anchoring and revocation use the gate's own functions (tls/revocation.ts) on the material `run` loads;
// what OpenSSL checks in the handshake (dates of every link, the CA flag of issuers, the clientAuth purpose) is
// checked here on the same chain.
import type { X509Certificate } from 'node:crypto';
import type { Identity } from '../identity/types.js';
import type { TlsMaterial } from '../state/material.js';
import { buildSignedChain, isChainAnchored, isChainRevoked } from '../state/revocation.js';

export type HandshakeRefusal = 'unknown_ca' | 'expired' | 'not_yet_valid' | 'revoked' | 'bad_key_usage';

export interface HandshakeVerdict {
  /** null: the handshake would admit this certificate. */
  refusal: HandshakeRefusal | null;
  /** Why, in words. */
  detail: string;
  /** The chain built by signature from the leaf up to a loaded CA (or as far as it goes). */
  chain: X509Certificate[];
}

function datesRefusal(
  chain: readonly X509Certificate[],
  now: number,
): { refusal: HandshakeRefusal; cert: X509Certificate } | null {
  for (const cert of chain) {
    if (now < Date.parse(cert.validFrom)) return { refusal: 'not_yet_valid', cert };
    if (now > Date.parse(cert.validTo)) return { refusal: 'expired', cert };
  }
  return null;
}

const subjectText = (cert: X509Certificate): string => cert.subject.replace(/\n/g, ', ');

/** The verdict of the TLS gate for `leaf`, sent together with `sent`, under `material` at `now`. */
export function judgeHandshake(
  leaf: X509Certificate,
  sent: readonly X509Certificate[],
  id: Identity,
  material: TlsMaterial,
  now: number,
): HandshakeVerdict {
  const chain = buildSignedChain(leaf, sent, material.caCerts);
  if (!isChainAnchored(chain, material.caCerts) || chain.slice(1).some((c) => !c.ca)) {
    return {
      refusal: 'unknown_ca',
      detail: 'does not chain to a --client-ca certificate (with the certificates in this file)',
      chain,
    };
  }
  const dates = datesRefusal(chain, now);
  if (dates) {
    const which = dates.cert === leaf ? 'the certificate' : `its issuer ${subjectText(dates.cert)}`;
    return {
      refusal: dates.refusal,
      detail: `${which} is ${dates.refusal === 'expired' ? 'expired' : 'not yet valid'}`,
      chain,
    };
  }
  const eku = id.extKeyUsage;
  if (eku.length > 0 && !eku.includes('clientAuth') && !eku.includes('anyExtendedKeyUsage')) {
    return { refusal: 'bad_key_usage', detail: 'its extended key usage has no clientAuth', chain };
  }
  if (isChainRevoked(chain, material.crls)) {
    return { refusal: 'revoked', detail: 'a loaded CRL revokes the certificate or one of its issuers', chain };
  }
  return { refusal: null, detail: 'admitted', chain };
}
