// Loads what a snapshot holds (TLS material and the compiled policy) from the configured files, as one unit. Start-up,
// `check`, `inspect`, the workers' primary and every reload use it; it pulls in no server code (fastify, undici).
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { loadPolicy } from '../authz/load-policy.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { findCrlRollbacks } from './crl-rollback.js';
import { loadTlsMaterial, MaterialError, type TlsMaterial } from './material.js';
import { buildSecureContextOptions } from './secure-context.js';
import type { Snapshot, SnapshotContent } from './snapshot.js';

/** The settings a snapshot is built from: the watched files and what their reading depends on. */
export type StateConfig = Pick<
  Config,
  'cert' | 'key' | 'clientCa' | 'crl' | 'policy' | 'allow' | 'allowAnyVerified' | 'minTlsVersion'
>;

function readMaterial(config: StateConfig): TlsMaterial {
  return loadTlsMaterial({ cert: config.cert, key: config.key, clientCa: config.clientCa, crl: config.crl });
}

/** The TLS material, or a ConfigError listing every problem (what `run` refuses to start with, exit 78). */
export function loadMaterialOrRefuse(config: StateConfig): TlsMaterial {
  try {
    return readMaterial(config);
  } catch (err) {
    if (err instanceof MaterialError) throw new ConfigError(err.problems);
    throw err;
  }
}

/** The first snapshot's content; any problem is a ConfigError. */
export function loadInitialState(config: StateConfig): SnapshotContent {
  const material = loadMaterialOrRefuse(config);
  const { policy, digest } = loadPolicy(config, material.caCerts);
  return { material, policy, policyDigest: digest };
}

export interface NextState extends SnapshotContent {
  /** What `setSecureContext` takes for this material; OpenSSL has accepted it already. */
  contextOptions: SecureContextOptions;
}

/**
 * A reload's candidate, built whole before anything is swapped: material, policy, a secure context OpenSSL accepts,
 * and no CRL older than the one `current` enforces. Throws MaterialError, ConfigError, UserError or OpenSSL's error.
 */
export function loadNextState(config: StateConfig, current: Snapshot): NextState {
  const material = readMaterial(config);
  const { policy, digest } = loadPolicy(config, material.caCerts);
  const contextOptions = buildSecureContextOptions(material, config);
  createSecureContext(contextOptions);
  const rollbacks = findCrlRollbacks(current.material.crls, material.crls, material.caCerts);
  if (rollbacks.length > 0) throw new MaterialError(rollbacks);
  return { material, policy, policyDigest: digest, contextOptions };
}
