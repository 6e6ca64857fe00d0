// Remembers, per leaf, the chains OpenSSL verified in full handshakes: a resumed session's ticket keeps only the leaf,
// so resumption is judged on these.
import type { X509Certificate } from 'node:crypto';

/** Leaves remembered (least recently used dropped first); a dropped leaf's sessions must handshake again. */
const MAX_LEAVES = 20_000;
/** Distinct chains kept per leaf; a leaf seen with more is marked, and its resumptions refused (fail closed). */
const MAX_CHAINS_PER_LEAF = 4;

interface Entry {
  chains: Map<string, X509Certificate[]>;
  overflow: boolean;
  /** Grows whenever the set of chains changes, so a verdict cached for the old set is not reused. */
  generation: number;
}

export interface ChainMemory {
  remember(leafFingerprint: string, chain: X509Certificate[]): void;
  /**
   * Every chain verified for this leaf, and a tag that changes with that set; null when none is remembered or more
   * chains were seen than are kept: the caller must then refuse, never admit a chain nobody verified.
   */
  recall(leafFingerprint: string): { chains: X509Certificate[][]; tag: string } | null;
  clear(): void;
  readonly size: number;
}

export function createChainMemory(): ChainMemory {
  const leaves = new Map<string, Entry>();
  // One object per issuer certificate, however many leaves it signed (each handshake parses its own copies).
  const issuers = new Map<string, X509Certificate>();
  const intern = (cert: X509Certificate): X509Certificate => {
    const known = issuers.get(cert.fingerprint256);
    if (known) return known;
    if (issuers.size < MAX_LEAVES) issuers.set(cert.fingerprint256, cert);
    return cert;
  };
  let generations = 0;
  return {
    remember(leafFingerprint, chain) {
      const key = chain.map((c) => c.fingerprint256).join('/');
      let entry = leaves.get(leafFingerprint);
      if (entry === undefined) {
        if (leaves.size >= MAX_LEAVES) {
          const oldest = leaves.keys().next().value;
          if (oldest !== undefined) leaves.delete(oldest);
        }
        entry = { chains: new Map(), overflow: false, generation: 0 };
      } else {
        leaves.delete(leafFingerprint);
      }
      leaves.set(leafFingerprint, entry);
      if (entry.chains.has(key)) return;
      if (entry.chains.size >= MAX_CHAINS_PER_LEAF) entry.overflow = true;
      else
        entry.chains.set(
          key,
          chain.map((cert, i) => (i === 0 ? cert : intern(cert))),
        );
      generations += 1;
      entry.generation = generations;
    },
    recall(leafFingerprint) {
      const entry = leaves.get(leafFingerprint);
      if (entry === undefined || entry.overflow || entry.chains.size === 0) return null;
      return { chains: [...entry.chains.values()], tag: String(entry.generation) };
    },
    clear() {
      leaves.clear();
      issuers.clear();
    },
    get size() {
      return leaves.size;
    },
  };
}
