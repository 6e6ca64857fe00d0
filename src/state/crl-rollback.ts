// Refuses a reload that would put an older CRL in place of a newer one for the same issuer (which would un-revoke
// callers).
import type { X509Certificate } from 'node:crypto';
import type { ParsedCrl } from './crl.js';

/** Newer first: a higher cRLNumber, then a later thisUpdate. */
function isNewer(a: ParsedCrl, b: ParsedCrl): boolean {
  if (a.crlNumber !== null && b.crlNumber !== null && a.crlNumber !== b.crlNumber) return a.crlNumber > b.crlNumber;
  return a.thisUpdate.getTime() > b.thisUpdate.getTime();
}

/** The newest CRL of each issuer name. */
function newestByIssuer(crls: readonly ParsedCrl[]): Map<string, ParsedCrl> {
  const newest = new Map<string, ParsedCrl>();
  for (const crl of crls) {
    const known = newest.get(crl.issuerName);
    if (known === undefined || isNewer(crl, known)) newest.set(crl.issuerName, crl);
  }
  return newest;
}

const isExpired = (crl: ParsedCrl, now: number): boolean => crl.nextUpdate !== null && crl.nextUpdate.getTime() <= now;
const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/**
 * Why `next` would roll back the CRLs in force, one problem per issuer: a lower cRLNumber, an older thisUpdate, an
 * expired CRL over a current one, or no CRL at all for an issuer that is still a loaded CA. Empty: no rollback.
 */
export function findCrlRollbacks(
  current: readonly ParsedCrl[],
  next: readonly ParsedCrl[],
  nextCaCerts: readonly X509Certificate[],
  now = Date.now(),
): string[] {
  const problems: string[] = [];
  const incoming = newestByIssuer(next);
  for (const [issuer, loaded] of newestByIssuer(current)) {
    const fresh = incoming.get(issuer);
    const where = `--crl: the CRL of "${issuer}"`;
    if (fresh === undefined) {
      const stillTrusted = nextCaCerts.some((ca) => ca.fingerprint256 === loaded.issuer.fingerprint256);
      if (stillTrusted)
        problems.push(
          `${where} is no longer in the CRL files while its CA is still trusted; restore it (a CA's CRL cannot be dropped by a reload)`,
        );
      continue;
    }
    if (fresh.crlNumber !== null && loaded.crlNumber !== null && fresh.crlNumber < loaded.crlNumber) {
      problems.push(
        `${where} has cRLNumber ${fresh.crlNumber}, lower than the loaded ${loaded.crlNumber} (a rollback); publish the newest CRL`,
      );
    } else if (fresh.thisUpdate.getTime() < loaded.thisUpdate.getTime()) {
      problems.push(
        `${where} was issued ${iso(fresh.thisUpdate)}, before the loaded one (${iso(loaded.thisUpdate)}) (a rollback); publish the newest CRL`,
      );
    } else if (isExpired(fresh, now) && !isExpired(loaded, now)) {
      problems.push(
        `${where} expired at ${iso(fresh.nextUpdate as Date)} while the loaded one is current (a rollback); publish the newest CRL`,
      );
    }
  }
  return problems;
}
