// The one reloader of the snapshot: watches the certificate, key, CA, CRL and policy files by content, loads TLS
// material and policy together (load-state.ts), then swaps the whole snapshot and hands the new material to the TLS
// server.
import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { UserError, ConfigError } from '../errors.js';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Metrics } from '../ops/metrics.js';
import { loadNextState, type NextState, type StateConfig } from './load-state.js';
import { MaterialError, type TlsMaterial } from './material.js';
import type { SnapshotStore } from './snapshot.js';

/** The part of a TLS server a reload touches (an https or http2 secure server). */
export interface ReloadableServer {
  setSecureContext(options: SecureContextOptions): void;
  setTicketKeys(keys: Buffer): void;
}

export type ReloadResult = 'unchanged' | 'success' | 'failure';

/**
 * A changed file is loaded only once two reads this far apart agree, so a file written in place (not renamed) is
 * never used half-written: a writer that pauses mid-way for less than this is waited for.
 */
export const SETTLE_MS = 250;
export type ReloadTrigger = 'interval' | 'signal' | 'manual';

export interface Reloader {
  /** Checks the files now; synchronous, so two reloads never interleave. */
  reload(trigger: ReloadTrigger): ReloadResult;
  stop(): void;
}

type WatchedConfig = StateConfig & Pick<Config, 'reloadIntervalMs'>;

/**
 * SHA-256 over the bytes of every watched file (following symlinks, so a Kubernetes `..data` swap changes it).
 * An unreadable file contributes its error code: a file that disappears is a change worth trying to load.
 */
export function digestWatchedFiles(config: WatchedConfig): string {
  const hash = createHash('sha256');
  const files = [
    config.cert,
    config.key,
    ...config.clientCa,
    ...config.crl,
    ...(config.policy === undefined ? [] : [config.policy]),
  ];
  for (const file of files) {
    hash.update(file).update('\0');
    try {
      hash.update(readFileSync(file));
    } catch (err) {
      hash.update(`unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

function subjectOf(cert: X509Certificate): string {
  return tryComputeIdentity(cert)?.subject ?? cert.subject.replace(/\n/g, ',');
}

/** Sets the expiry gauges from freshly loaded material, dropping series of certificates no longer loaded. */
export function recordMaterialGauges(metrics: Metrics, material: TlsMaterial): void {
  metrics.certificateNotAfter.reset();
  material.serverChain.forEach((cert, i) => {
    metrics.certificateNotAfter.set(
      { role: i === 0 ? 'server' : 'server-chain', subject: subjectOf(cert) },
      Date.parse(cert.validTo) / 1000,
    );
  });
  for (const ca of material.caCerts)
    metrics.certificateNotAfter.set({ role: 'client-ca', subject: subjectOf(ca) }, Date.parse(ca.validTo) / 1000);
  metrics.crlNextUpdate.reset();
  for (const crl of material.crls) {
    if (crl.nextUpdate) metrics.crlNextUpdate.set({ issuer: crl.issuerName }, crl.nextUpdate.getTime() / 1000);
  }
}

/** Logs each CRL past its nextUpdate once (it stays enforced: an old list of revoked serials is still true). */
export function warnStaleCrls(material: TlsMaterial, log: Logger, warned: Set<string>, now = Date.now()): void {
  for (const crl of material.crls) {
    if (!crl.nextUpdate || crl.nextUpdate.getTime() > now) continue;
    const key = `${crl.issuerName}\0${crl.thisUpdate.toISOString()}`;
    if (warned.has(key)) continue;
    warned.add(key);
    log.warn(
      { issuer: crl.issuerName, nextUpdate: crl.nextUpdate.toISOString() },
      'CRL is past its nextUpdate; still enforcing it; publish a fresh CRL',
    );
  }
}

function problemsOf(err: unknown): string[] {
  if (err instanceof MaterialError || err instanceof ConfigError) return err.problems;
  if (err instanceof UserError) return [err.message];
  // createSecureContext errors carry OpenSSL reason text, never key material.
  return [`the new TLS material was refused by OpenSSL (${(err as { code?: string }).code ?? (err as Error).message})`];
}

export function startReloader(deps: {
  config: WatchedConfig;
  store: SnapshotStore;
  server: ReloadableServer;
  metrics: Metrics;
  log: Logger;
  /** Digest of the files the running snapshot was built from (taken before they were read). */
  initialDigest: string;
  warnedStaleCrls?: Set<string>;
}): Reloader {
  const { config, store, server, metrics, log } = deps;
  let lastDigest = deps.initialDigest;
  const warned = deps.warnedStaleCrls ?? new Set<string>();

  const stability = createStabilityCheck(
    () => digestWatchedFiles(config),
    () => tick(),
  );

  const reload = (trigger: ReloadTrigger): ReloadResult => {
    let before = digestWatchedFiles(config);
    if (before === lastDigest) {
      stability.reset();
      warnStaleCrls(store.current.material, log, warned);
      return 'unchanged';
    }
    // Periodic checks never block: they look again once the settle time has passed. A signal or a manual reload
    // waits out the rest of it here, so it still applies what was written before it, at once.
    const settled = stability.settle(before, trigger !== 'interval');
    if (settled === null) return 'unchanged';
    before = settled;
    let next: NextState;
    try {
      next = loadNextState(config, store.current);
    } catch (err) {
      // Remembered, so a broken file is reported once, not on every tick until someone fixes it.
      lastDigest = before;
      metrics.reloads.inc({ result: 'failure' });
      log.error(
        { trigger, problems: problemsOf(err) },
        'reload refused; the current certificates and policy keep serving',
      );
      return 'failure';
    }
    // A file changed while we read it (a writer mid-way): try again next time rather than swap a mixture.
    if (digestWatchedFiles(config) !== before) return 'unchanged';
    lastDigest = before;
    const { material, contextOptions } = next;
    const current = store.current;
    const materialChanged = material.digest !== current.material.digest;
    const policyChanged = next.policyDigest !== current.policyDigest;
    if (!materialChanged && !policyChanged) return 'unchanged';
    const trustChanged =
      material.caPem.join('\0') !== current.material.caPem.join('\0') ||
      material.crlPem.join('\0') !== current.material.crlPem.join('\0');

    store.swap({ material, policy: next.policy, policyDigest: next.policyDigest });
    if (materialChanged) {
      // A new context also brings fresh ticket keys; rotating explicitly keeps that true whatever Node does.
      server.setSecureContext(contextOptions);
      if (trustChanged) server.setTicketKeys(randomBytes(48));
      recordMaterialGauges(metrics, material);
    }
    warnStaleCrls(material, log, warned);
    metrics.reloads.inc({ result: 'success' });
    const leaf = material.serverChain[0];
    log.info(
      {
        trigger,
        certificate: materialChanged ? { serial: leaf?.serialNumber, notAfter: leaf?.validTo } : undefined,
        clientCas: material.caCerts.length,
        crls: material.crls.length,
        trustChanged,
        policyChanged,
        ticketsRotated: trustChanged,
      },
      'reloaded',
    );
    return 'success';
  };

  function tick(): void {
    try {
      reload('interval');
    } catch (err) {
      // Never let a surprise in one tick take the proxy down; the next tick tries again.
      log.error({ err: (err as Error).message }, 'reload check failed');
    }
  }
  const timer = setInterval(tick, Math.max(100, config.reloadIntervalMs));
  timer.unref();
  return {
    reload,
    stop: () => {
      clearInterval(timer);
      stability.reset();
    },
  };
}

/** Blocks the thread for `ms` (only for a signal or manual reload, and at most SETTLE_MS). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Tracks when the watched files were first seen with their current content. settle() returns the digest once it has
 * been seen unchanged for SETTLE_MS (waiting for it when `wait`), or null after arranging a later look (`recheck`).
 */
function createStabilityCheck(digest: () => string, recheck: () => void) {
  let seen: { digest: string; at: number } | null = null;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (ms: number): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      recheck();
    }, ms);
    timer.unref();
  };
  return {
    settle(current: string, wait: boolean): string | null {
      const now = Date.now();
      if (seen?.digest !== current) seen = { digest: current, at: now };
      const remaining = seen.at + SETTLE_MS - now;
      if (remaining <= 0) return current;
      if (wait) {
        sleepSync(remaining);
        const again = digest();
        if (again === current) return current;
        seen = { digest: again, at: Date.now() };
      }
      schedule(wait ? SETTLE_MS : remaining);
      return null;
    },
    reset(): void {
      seen = null;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
