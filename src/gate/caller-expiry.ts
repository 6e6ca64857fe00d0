// What the gate notes of an admitted caller's certificate lifetime: the remaining-lifetime histogram, and one warning
// per certificate within a week of expiry.
import type { Logger } from 'pino';
import type { Identity } from '../identity/types.js';
import type { Metrics } from '../ops/metrics.js';

const EXPIRY_WARNING_MS = 7 * 86_400_000;
const MAX_REMEMBERED_EXPIRY_WARNINGS = 10_000;

/** Observes each admitted caller's remaining lifetime; warns once per certificate (a bounded memory of them). */
export function createCallerExpiryWatch(deps: { metrics: Metrics; log: Logger }): (identity: Identity) => void {
  const warned = new Set<string>();
  return function observeRemainingLifetime(identity) {
    const remainingMs = identity.notAfter.getTime() - Date.now();
    deps.metrics.clientCertRemaining.observe(Math.max(0, remainingMs / 1000));
    if (remainingMs >= EXPIRY_WARNING_MS || warned.has(identity.fingerprint256)) return;
    if (warned.size >= MAX_REMEMBERED_EXPIRY_WARNINGS) warned.clear();
    warned.add(identity.fingerprint256);
    deps.log.warn(
      { subject: identity.subject, serial: identity.serial, notAfter: identity.notAfter.toISOString() },
      'caller certificate expires within 7 days',
    );
  };
}
