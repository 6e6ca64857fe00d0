// `mtls-sidecar check`: runs the loaders `run` runs (config, TLS material, policy, posture) and reports; exit 0 when
// `run` would start, 1 when not.
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadPolicy } from '../authz/load-policy.js';
import { loadConfig } from '../config/load-config.js';
import type { Config, ConfigInput } from '../config/types.js';
import { ConfigError, EXIT_CHECK_FAILED, EXIT_OK } from '../errors.js';
import { computeIdentity } from '../identity/identity.js';
import { assessPosture, describePostureRefusal } from '../posture/enforce.js';
import { evaluatePosture } from '../posture/findings.js';
import { probePosture } from '../posture/probe.js';
import { countFindings } from '../posture/report.js';
import { loadMaterialOrRefuse } from '../state/load-state.js';
import type { TlsMaterial } from '../state/material.js';
import { parseCertificateBundle } from '../state/pem.js';
import { serverCertUsageProblems } from '../state/server-cert-usage.js';
import {
  formatCheckReport,
  formatIsoSeconds,
  type CertificateEntry,
  type CheckReport,
  type CrlEntry,
  type StageName,
  type StageResult,
} from './report-format.js';

const DAY_MS = 86_400_000;
/** A server or CA certificate closer than this to its expiry is worth a warning. */
const EXPIRY_WARNING_DAYS = 30;

function daysUntil(date: Date, now: number): number {
  return Math.floor((date.getTime() - now) / DAY_MS);
}

/** Runs a loader step; a ConfigError becomes the stage's problems, anything else is a bug and propagates. */
function runStage<T>(stage: StageResult, load: () => T): T | undefined {
  try {
    const value = load();
    stage.status = 'ok';
    return value;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stage.status = 'failed';
    stage.problems.push(...err.problems);
    return undefined;
  }
}

function describeCertificate(
  cert: X509Certificate,
  role: CertificateEntry['role'],
  file: string,
  now: number,
): CertificateEntry {
  // The same identity code the proxy uses, so subject and serial read exactly as in the identity headers.
  const id = computeIdentity(cert);
  return {
    role,
    file,
    subject: id.subject,
    issuer: id.issuer,
    serial: id.serial,
    fingerprintSha256: id.fingerprint256,
    notBefore: formatIsoSeconds(id.notBefore),
    notAfter: formatIsoSeconds(id.notAfter),
    daysLeft: daysUntil(id.notAfter, now),
  };
}

/**
 * Every certificate of --cert and --client-ca, read the way material loading reads them. Best effort, so
 * expiry dates are shown even when another file (say, a key that does not match) stops `run`.
 */
function listCertificates(config: Config, now: number): CertificateEntry[] {
  const entries: CertificateEntry[] = [];
  const add = (file: string, roleOf: (index: number) => CertificateEntry['role']): void => {
    try {
      parseCertificateBundle(readFileSync(file, 'utf8')).forEach((cert, i) =>
        entries.push(describeCertificate(cert, roleOf(i), file, now)),
      );
    } catch {
      // Material loading has reported this file with its flag and the fix.
    }
  };
  add(config.cert, (i) => (i === 0 ? 'server' : 'server-chain'));
  for (const file of config.clientCa) add(file, () => 'client-ca');
  return entries;
}

function listCrls(material: TlsMaterial, now: number): CrlEntry[] {
  return material.crls.map((crl) => ({
    issuer: computeIdentity(crl.issuer).subject,
    thisUpdate: formatIsoSeconds(crl.thisUpdate),
    nextUpdate: crl.nextUpdate === null ? null : formatIsoSeconds(crl.nextUpdate),
    daysLeft: crl.nextUpdate === null ? null : daysUntil(crl.nextUpdate, now),
    revoked: crl.revokedSerials.size,
  }));
}

function warnAboutDates(certificates: CertificateEntry[], crls: CrlEntry[], now: number): string[] {
  const warnings: string[] = [];
  for (const cert of certificates) {
    const what = `${cert.role} certificate ${cert.subject} (${cert.file})`;
    if (cert.daysLeft < 0) warnings.push(`${what} expired on ${cert.notAfter}; replace it`);
    else if (cert.daysLeft < EXPIRY_WARNING_DAYS)
      warnings.push(`${what} expires in ${cert.daysLeft} days (${cert.notAfter}); renew it`);
    if (Date.parse(cert.notBefore) > now) warnings.push(`${what} is not valid until ${cert.notBefore}`);
  }
  for (const crl of crls) {
    if (crl.daysLeft !== null && crl.daysLeft < 0) {
      warnings.push(
        `the CRL of ${crl.issuer} is past its nextUpdate (${crl.nextUpdate}); it is still enforced, but fetch a fresh one from the CA`,
      );
    }
  }
  return warnings;
}

/** Why the leaf of --cert cannot serve TLS; an unreadable file is reported by material loading instead. */
function warnAboutServerUsage(file: string): string[] {
  let leaf: X509Certificate | undefined;
  try {
    leaf = parseCertificateBundle(readFileSync(file, 'utf8'))[0];
  } catch {
    return [];
  }
  return leaf ? serverCertUsageProblems(leaf.raw).map((p) => `server certificate ${JSON.stringify(file)}: ${p}`) : [];
}

/** Builds the report; never throws for a configuration, material, policy or posture problem. */
export function buildCheckReport(input: ConfigInput, now = Date.now()): CheckReport {
  const stage = (): StageResult => ({ status: 'skipped', problems: [] });
  const checks: Record<StageName, StageResult> = {
    config: stage(),
    material: stage(),
    policy: stage(),
    posture: stage(),
  };
  const config = runStage(checks.config, () => loadConfig(input));
  let certificates: CertificateEntry[] = [];
  let crls: CrlEntry[] = [];
  let policy: string[] = [];

  if (config) {
    const material = runStage(checks.material, () => loadMaterialOrRefuse(config));
    certificates = listCertificates(config, now);
    if (material) crls = listCrls(material, now);
    policy = runStage(checks.policy, () => loadPolicy(config, material?.caCerts).policy.describe()) ?? [];
  }

  // Without a configuration the process's own posture is still worth reporting (no key or upstream to judge).
  const findings = config ? assessPosture(config) : evaluatePosture(probePosture({ keyFiles: [] }));
  const refusal = describePostureRefusal(findings);
  if (config && refusal.length > 0) {
    checks.posture.status = config.allowInsecurePosture ? 'overridden' : 'failed';
    // One problem per critical finding; the refusal's closing line (how to override) is not a problem of its own.
    if (!config.allowInsecurePosture) {
      checks.posture.problems.push(...refusal.slice(0, -1));
      checks.posture.override = refusal.at(-1);
    }
  } else if (config) {
    checks.posture.status = 'ok';
  }

  const problems = Object.values(checks).flatMap((s) => s.problems);
  return {
    ok: Object.values(checks).every((s) => s.status === 'ok' || s.status === 'overridden'),
    checks,
    problems,
    warnings: [...warnAboutDates(certificates, crls, now), ...(config ? warnAboutServerUsage(config.cert) : [])],
    certificates,
    crls,
    policy,
    posture: { findings, counts: countFindings(findings), allowInsecurePosture: config?.allowInsecurePosture ?? false },
  };
}

export async function checkCommand(input: ConfigInput, opts: { json: boolean }): Promise<number> {
  const report = buildCheckReport(input);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report));
  return report.ok ? EXIT_OK : EXIT_CHECK_FAILED;
}
