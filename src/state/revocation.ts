// Checks a verified chain against loaded CRLs: each CRL judges only the certificates its issuer signed.
import type { X509Certificate } from 'node:crypto';
import { normalizeSerial, type ParsedCrl } from './crl.js';

const MAX_CHAIN = 16;

function signed(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The chain from `leaf` upwards, each link checked by signature, drawing issuers from what the peer sent and
 * from the loaded CAs. Built by signature rather than taken from the reported chain, so a look-alike
 * certificate sent alongside cannot stand in for the real (possibly revoked) intermediate.
 */
export function buildSignedChain(
  leaf: X509Certificate,
  peerSent: readonly X509Certificate[],
  caCerts: readonly X509Certificate[],
): X509Certificate[] {
  const chain = [leaf];
  const candidates = [...caCerts, ...peerSent];
  const seen = new Set([leaf.fingerprint256]);
  let current = leaf;
  while (chain.length < MAX_CHAIN) {
    const issuer = candidates.find((c) => !seen.has(c.fingerprint256) && signed(current, c));
    if (!issuer) break;
    chain.push(issuer);
    seen.add(issuer.fingerprint256);
    current = issuer;
  }
  return chain;
}

/** True when some certificate of the chain is, or was signed by, one of the loaded CAs. */
export function isChainAnchored(chain: readonly X509Certificate[], caCerts: readonly X509Certificate[]): boolean {
  const trusted = new Set(caCerts.map((c) => c.fingerprint256));
  return chain.some((cert) => trusted.has(cert.fingerprint256) || caCerts.some((ca) => signed(cert, ca)));
}

/**
 * isChainAnchored for a chain that buildSignedChain made from these same `caCerts`, by fingerprint alone. The builder
 * tries the loaded CAs before anything the peer sent, so when a loaded CA signed some certificate of the chain, that
 * CA (or another loaded CA) is the next link, or is already in the chain: a loaded CA is then always a member. Only a
 * chain cut at MAX_CHAIN could end below the CA that signed its top, and that rare case gets the full signature check.
 * A chain kept from an earlier snapshot must go through isChainAnchored, since the CAs may have changed since.
 */
export function isBuiltChainAnchored(chain: readonly X509Certificate[], caCerts: readonly X509Certificate[]): boolean {
  if (chain.length >= MAX_CHAIN) return isChainAnchored(chain, caCerts);
  const trusted = new Set(caCerts.map((c) => c.fingerprint256));
  return chain.some((cert) => trusted.has(cert.fingerprint256));
}

/** True when any certificate of the chain (leaf first) is listed by a CRL of the CA that issued it. */
export function isChainRevoked(chain: readonly X509Certificate[], crls: readonly ParsedCrl[]): boolean {
  if (crls.length === 0) return false;
  for (const cert of chain) {
    const serial = normalizeSerial(cert.serialNumber);
    for (const crl of crls) {
      if (crl.revokedSerials.has(serial) && signed(cert, crl.issuer)) return true;
    }
  }
  return false;
}
