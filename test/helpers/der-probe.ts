// Hostile-DER helpers shared by the unit and openssl-certificate tests: a replayable PRNG and a probe of the reader.
import { computeIdentityFromDer, DerError } from '../../src/identity/identity.js';

export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Small deterministic PRNG so a failure can be replayed. */
export function makeRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Runs the reader; anything other than success or a DerError is a bug. Returns the error kind seen. */
export function probe(der: Buffer): 'ok' | 'der-error' | string {
  try {
    const id = computeIdentityFromDer(der);
    if (!PRINTABLE_ASCII.test(id.subject) || !PRINTABLE_ASCII.test(id.cnEscaped) || !PRINTABLE_ASCII.test(id.issuer)) {
      return `non-printable output: ${JSON.stringify(id.subject)}`;
    }
    return 'ok';
  } catch (err) {
    if (err instanceof DerError) return 'der-error';
    return `unexpected ${(err as Error).name}: ${(err as Error).message}`;
  }
}
