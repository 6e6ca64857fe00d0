// Probes the posture for a configuration, logs and exports every finding, and refuses a critical posture at start.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import { EXAMPLE_SERVER_CERT_SHA256 } from './example-cert.js';
import { evaluatePosture } from './findings.js';
import { probePosture, type PostureInputs, type ProbeOptions } from './probe.js';
import type { Finding, Severity } from './types.js';

/** How an operator overrides a refusal, in all three configuration sources. */
export const OVERRIDE_HINT =
  'to start anyway (not recommended), pass --allow-insecure-posture (or MTLS_SIDECAR_ALLOW_INSECURE_POSTURE=true, or "allow-insecure-posture: true" in the config file)';

/**
 * The leaf of --cert as DER, or undefined when it cannot be read or parsed: material loading reports
 * that problem with the flag and the fix, so the posture check stays quiet about it.
 */
function readServerLeafDer(certFile: string): Buffer | undefined {
  try {
    return new X509Certificate(readFileSync(certFile)).raw;
  } catch {
    return undefined;
  }
}

/** What the probe needs to know about a configuration (key files, served certificate, upstream). */
export function describePostureInputs(config: Pick<Config, 'cert' | 'key' | 'upstream'>): PostureInputs {
  const serverCertDer = readServerLeafDer(config.cert);
  return {
    keyFiles: [config.key],
    ...(serverCertDer !== undefined ? { serverCertDer } : {}),
    exampleCertSha256: EXAMPLE_SERVER_CERT_SHA256,
    upstream: config.upstream,
  };
}

/** Probes and evaluates the posture for `config`; no logging, never throws for an unreadable file. */
export function assessPosture(
  config: Pick<Config, 'cert' | 'key' | 'upstream'>,
  probeOptions: ProbeOptions = {},
): Finding[] {
  return evaluatePosture(probePosture(describePostureInputs(config), probeOptions));
}

/** The refusal lines for the critical findings (each with its fix), then how to override; [] when none is critical. */
export function describePostureRefusal(findings: readonly Finding[]): string[] {
  const critical = findings.filter((finding) => finding.severity === 'critical');
  if (critical.length === 0) return [];
  return [
    ...critical.map((finding) => `posture ${finding.id}: ${finding.message}; fix: ${finding.remediation}`),
    `a compromised proxy in this posture could escape its container, so it refuses to start; ${OVERRIDE_HINT}`,
  ];
}

const LOG_LEVEL: Record<Severity, 'error' | 'warn' | 'info'> = { critical: 'error', warn: 'warn', info: 'info' };

/** Logs one line per finding at a level matching its severity, and sets `posture_finding{id,severity}` to 1. */
export function reportFindings(findings: readonly Finding[], deps: { log: Logger; metrics: Metrics }): void {
  for (const finding of findings) {
    deps.log[LOG_LEVEL[finding.severity]](
      { posture: { id: finding.id, severity: finding.severity, remediation: finding.remediation } },
      `posture ${finding.severity} ${finding.id}: ${finding.message}`,
    );
    deps.metrics.postureFinding.set({ id: finding.id, severity: finding.severity }, 1);
  }
}

/**
 * The start-up posture gate: probes, logs and exports every finding, then throws ConfigError (exit 78)
 * listing the critical findings with their fixes unless `config.allowInsecurePosture`. Returns the findings.
 */
export function enforcePosture(
  config: Config,
  deps: { log: Logger; metrics: Metrics },
  probeOptions: ProbeOptions = {},
): Finding[] {
  const findings = assessPosture(config, probeOptions);
  reportFindings(findings, deps);
  const refusal = describePostureRefusal(findings);
  if (refusal.length === 0) return findings;
  if (!config.allowInsecurePosture) throw new ConfigError(refusal);
  deps.log.warn(
    { posture: { critical: findings.filter((f) => f.severity === 'critical').map((f) => f.id) } },
    'starting despite critical posture findings because --allow-insecure-posture is set',
  );
  return findings;
}
