// Pure verdicts on presented chains: admitted with an identity, or refused with a reason label and a detail for the
// log.
import type { X509Certificate } from 'node:crypto';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Identity } from '../identity/types.js';
import type { RejectReason } from '../ops/reject-reasons.js';
import type { ParsedCrl } from '../state/crl.js';
import { buildSignedChain, isBuiltChainAnchored, isChainAnchored, isChainRevoked } from '../state/revocation.js';
import { explainUnspecified, findChainDefect } from './chain-defects.js';
import { classifyVerifyError } from './handshake-reason.js';
import { MAX_CHAIN_LENGTH } from './peer-chain.js';

export interface Refusal {
  reason: RejectReason;
  detail: string;
}

/** What the chain is judged against: the loaded CAs and CRLs of one snapshot. */
export interface ChainTrust {
  caCerts: readonly X509Certificate[];
  crls: readonly ParsedCrl[];
}

/** What a client presented in one handshake, and what OpenSSL and this process already know about it. */
export interface PresentedChain {
  /** Leaf first, then each issuer as Node linked them (at most MAX_CHAIN_LENGTH); may be left empty when tooLong. */
  certs: readonly X509Certificate[];
  /** The links went on past MAX_CHAIN_LENGTH. */
  tooLong: boolean;
  /** OpenSSL's verification code when it refused the chain, null when it verified it. */
  verifyError: string | null;
  /** A resumed session: the ticket kept only the leaf. */
  resumed: boolean;
  /** For a resumed session, the chains full handshakes verified for this leaf; null when none is remembered. */
  remembered: X509Certificate[][] | null;
}

export type ChainJudgement =
  | { admitted: true; identity: Identity; chains: X509Certificate[][]; built: X509Certificate[] }
  | (Refusal & {
      admitted: false;
      /** The chain built for a verified leaf (remembered for resumption whatever the verdict), when one was built. */
      built?: X509Certificate[];
      /** A resumed session nobody verified a chain for: only a full handshake can be judged. */
      fullHandshakeNeeded?: boolean;
    });

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
  if (code === 'UNSPECIFIED')
    return {
      reason: 'invalid_chain',
      detail: 'OpenSSL refused the chain for a rule Node does not name (UNSPECIFIED): e.g. a CA without keyCertSign',
    };
  return { reason: classifyVerifyError(code, true), detail: code || 'unknown verification error' };
}

/**
 * Every chain must stand: within the length bound, free of defects, unrevoked, anchored in a loaded CA and unexpired.
 * `built` says the chains were built just now from these same CAs (anchoring by fingerprint suffices); chains
 * remembered from an earlier handshake are anchored by signature, since the CAs may have changed since.
 */
export function judgeVerifiedChains(
  chains: readonly X509Certificate[][],
  trust: ChainTrust,
  built: boolean,
  now: number,
): Refusal | null {
  for (const chain of chains) {
    if (chain.length > MAX_CHAIN_LENGTH)
      return { reason: 'chain_too_long', detail: `more than ${MAX_CHAIN_LENGTH} certificates` };
    const defect = findChainDefect(chain);
    if (defect) return { reason: defect.kind, detail: defect.detail };
    if (isChainRevoked(chain, trust.crls)) return { reason: 'revoked', detail: 'listed by a loaded CRL' };
    const anchored = built ? isBuiltChainAnchored(chain, trust.caCerts) : isChainAnchored(chain, trust.caCerts);
    if (!anchored) return { reason: 'unknown_ca', detail: 'issuer no longer trusted' };
    if (chain.some((cert) => Date.parse(cert.validTo) <= now))
      return { reason: 'expired', detail: 'a certificate of the chain expired' };
  }
  return null;
}

/** Chains admitted earlier, judged again under other CAs and CRLs: false once any is revoked or no longer anchored. */
export function chainsStillStand(chains: readonly X509Certificate[][], trust: ChainTrust): boolean {
  return !chains.some((chain) => isChainRevoked(chain, trust.crls) || !isChainAnchored(chain, trust.caCerts));
}

/**
 * The reported issuers except those that are byte for byte a loaded CA (filled in by Node from the loaded CAs):
 * buildSignedChain tries the loaded CAs first, so such a copy could never be picked.
 */
function peerSentOf(issuers: readonly X509Certificate[], caCerts: readonly X509Certificate[]): X509Certificate[] {
  if (issuers.length === 0) return [];
  const loaded = new Set(caCerts.map((c) => c.fingerprint256));
  return issuers.filter((issuer) => !loaded.has(issuer.fingerprint256));
}

/**
 * The chains a verified handshake stands on. A full handshake stands on the chain built by signature for its leaf. A
 * resumed one stands on every chain a full handshake verified for its leaf; a leaf issued by a loaded CA needs none.
 * Without either it is refused: the client's next full handshake gets judged whole.
 */
function chainsOf(
  presented: PresentedChain,
  built: X509Certificate[],
  caCerts: readonly X509Certificate[],
): X509Certificate[][] | null {
  if (!presented.resumed) return [built];
  if (presented.remembered !== null) return presented.remembered;
  if (built.length > 1 && isChainAnchored(built, caCerts)) return [built];
  return null;
}

/**
 * The verdict on a presented chain (null: the client sent no certificate) under `trust` at `now`. A chain OpenSSL
 * verified is judged again under the CAs and CRLs given here, which are those in force now even for a socket accepted
 * before a reload (it handshook with the secure context of that moment).
 */
export function judgeChain(presented: PresentedChain | null, trust: ChainTrust, now: number): ChainJudgement {
  const noCertificate: ChainJudgement = {
    admitted: false,
    reason: 'no_certificate',
    detail: 'the client sent no certificate',
  };
  if (presented === null) return noCertificate;
  if (presented.tooLong)
    return { admitted: false, reason: 'chain_too_long', detail: `more than ${MAX_CHAIN_LENGTH} certificates` };
  const leaf = presented.certs[0];
  if (leaf === undefined) return noCertificate;
  if (presented.verifyError !== null)
    return { admitted: false, ...explainUnverified(presented.verifyError, presented.certs) };
  const built = buildSignedChain(leaf, peerSentOf(presented.certs.slice(1), trust.caCerts), trust.caCerts);
  const chains = chainsOf(presented, built, trust.caCerts);
  if (chains === null) {
    const detail = 'resumed session whose verified chain is not known here; a full handshake is needed';
    return { admitted: false, reason: 'unknown_ca', detail, built, fullHandshakeNeeded: true };
  }
  const refusal = judgeVerifiedChains(chains, trust, !presented.resumed, now);
  if (refusal !== null) return { admitted: false, ...refusal, built };
  const identity = tryComputeIdentity(chains[0]![0]!);
  if (identity === null)
    return { admitted: false, reason: 'bad_certificate', detail: 'certificate could not be parsed', built };
  return { admitted: true, identity, chains, built };
}
