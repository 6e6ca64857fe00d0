// Pure verdicts on presented chains: why an unverified one was refused, and whether verified ones stand under the current CAs and CRLs.
import type { X509Certificate } from 'node:crypto';
import type { ParsedCrl } from '../state/crl.js';
import { explainUnspecified, findChainDefect } from './chain-defects.js';
import { classifyVerifyError, type RejectReason } from './handshake-reason.js';
import { MAX_CHAIN_LENGTH } from './peer-chain.js';
import { isBuiltChainAnchored, isChainAnchored, isChainRevoked } from '../state/revocation.js';

export interface Refusal {
  reason: RejectReason;
  detail: string;
}

/**
 * Why OpenSSL refused `chain` (leaf first, as presented) with verify code `code`. A defect found in the certificates
 * themselves is named first: OpenSSL reports the last of several errors, and Node reports many codes (name
 * constraints, key usage, critical extensions, weak digests) only as UNSPECIFIED.
 */
export function explainUnverified(code: string, chain: readonly X509Certificate[]): Refusal {
  const defect = code === 'UNSPECIFIED' ? explainUnspecified(chain) : findChainDefect(chain);
  if (defect) return { reason: defect.kind, detail: defect.detail };
  // Node names every "cannot build a path" code; what it leaves UNSPECIFIED are rules a chain broke (a CA that may
  // not sign certificates is not even linked into the chain Node reports, so it cannot be pointed at here).
  if (code === 'UNSPECIFIED') return { reason: 'invalid_chain', detail: 'OpenSSL refused the chain for a rule Node does not name (UNSPECIFIED): e.g. a CA without keyCertSign' };
  return { reason: classifyVerifyError(code, true), detail: code || 'unknown verification error' };
}

/**
 * Every chain must stand: within the length bound, free of defects, unrevoked, anchored in a loaded CA and unexpired.
 * `built` says the chains were built just now from these same CAs (anchoring by fingerprint suffices); chains remembered
 * from an earlier handshake are anchored by signature, since the CAs may have changed since.
 */
export function judgeVerifiedChains(
  chains: readonly X509Certificate[][],
  material: { caCerts: readonly X509Certificate[]; crls: readonly ParsedCrl[] },
  built: boolean,
  now = Date.now(),
): Refusal | null {
  for (const chain of chains) {
    if (chain.length > MAX_CHAIN_LENGTH) return { reason: 'chain_too_long', detail: `more than ${MAX_CHAIN_LENGTH} certificates` };
    const defect = findChainDefect(chain);
    if (defect) return { reason: defect.kind, detail: defect.detail };
    if (isChainRevoked(chain, material.crls)) return { reason: 'revoked', detail: 'listed by a loaded CRL' };
    const anchored = built ? isBuiltChainAnchored(chain, material.caCerts) : isChainAnchored(chain, material.caCerts);
    if (!anchored) return { reason: 'unknown_ca', detail: 'issuer no longer trusted' };
    if (chain.some((cert) => Date.parse(cert.validTo) <= now)) return { reason: 'expired', detail: 'a certificate of the chain expired' };
  }
  return null;
}
