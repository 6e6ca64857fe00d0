// Admitted chains of the current snapshot, so a repeat caller skips re-deriving chain, anchoring, revocation and
// identity.
import type { X509Certificate } from 'node:crypto';
import type { Identity } from '../identity/types.js';

/** What a verified chain yields, a pure function of the chains' DER and the snapshot it was judged under. */
export interface ChainVerdict {
  identity: Identity;
  identityHeaders: ReadonlyArray<readonly [string, string]>;
  /** Every chain the connection stands on (one for a full handshake; all remembered ones for a resumed session). */
  chains: X509Certificate[][];
  /** When the first certificate of those chains expires (validUntilOf), in ms since the epoch. */
  validUntilMs: number;
}

const MAX_CACHED_VERDICTS = 1024;

/**
 * Keyed by the SHA-256 fingerprints of the leaf and of every certificate reported above it (so another chain for the
 * same leaf is judged afresh), or for a resumed session by the leaf and the set of chains remembered for it. OpenSSL
 * still verifies every full handshake. Any snapshot swap (CAs, CRLs, policy) empties it.
 */
export function createVerdictCache<T = ChainVerdict>() {
  const entries = new Map<string, T>();
  let version = -1;
  const sync = (current: number): void => {
    if (current === version) return;
    entries.clear();
    version = current;
  };
  return {
    get(key: string, current: number): T | undefined {
      sync(current);
      return entries.get(key);
    },
    set(key: string, current: number, verdict: T): void {
      sync(current);
      if (entries.size >= MAX_CACHED_VERDICTS) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, verdict);
    },
  };
}
