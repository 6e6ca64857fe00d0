// `mtls-sidecar inspect FILE`: prints a certificate's identity and identity headers exactly as the proxy computes them
// and, given a config, which rules admit it.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { allowSpecFromFlags, compileAllowRules, FLAGS_WHERE, type AllowSpec } from '../authz/allow-rules.js';
import { trustedIssuersOf, type TrustedIssuers } from '../authz/issuer-scope.js';
import { loadPolicy } from '../authz/load-policy.js';
import { parsePolicyFile } from '../authz/policy-file.js';
import { loadConfig } from '../config/load-config.js';
import type { Config, ConfigInput } from '../config/types.js';
import { EXIT_CHECK_FAILED, UserError } from '../errors.js';
import { buildIdentityHeaders } from '../http/identity-headers.js';
import { computeIdentity, DerError, tryComputeIdentity } from '../identity/identity.js';
import type { Identity } from '../identity/types.js';
import { uriSanProblem } from '../identity/uri-san.js';
import { loadMaterialOrRefuse } from '../state/load-state.js';
import type { TlsMaterial } from '../state/material.js';
import { parseCertificateBundle, splitPem } from '../state/pem.js';
import { judgeHandshake, type HandshakeVerdict } from './inspect-verdict.js';
import { formatInspectReport, formatIsoSeconds, type InspectReport, type InspectRouteResult } from './report-format.js';

const DAY_MS = 86_400_000;

/**
 * A FILE that cannot be read or holds no certificate exits 1 ("inspect could not vouch for it"): it is
 * neither a malformed command line (2) nor the proxy's configuration (78).
 */
function refuseFile(file: string, why: string): UserError {
  return new UserError(`inspect ${file}: ${why}`, EXIT_CHECK_FAILED);
}

/**
 * The first certificate of a PEM bundle or a DER file, the ones after it (sent with it, as a client would), and how
 * many.
 */
function readCertificateFile(file: string): { cert: X509Certificate; rest: X509Certificate[]; count: number } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw refuseFile(file, `cannot read (${code}); check the path and that this user may read it`);
  }
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const labels = splitPem(text).map((b) => b.label);
    if (!labels.includes('CERTIFICATE')) {
      const found = labels.length === 0 ? 'no complete PEM block' : `only ${[...new Set(labels)].join(', ')}`;
      throw refuseFile(
        file,
        `holds ${found}, no "CERTIFICATE"; give the certificate file (.crt/.pem), not a key or request`,
      );
    }
    try {
      const [first, ...rest] = parseCertificateBundle(text);
      return { cert: first as X509Certificate, rest, count: rest.length + 1 };
    } catch (err) {
      throw refuseFile(file, `${(err as Error).message}; give a PEM certificate`);
    }
  }
  try {
    return { cert: new X509Certificate(bytes), rest: [], count: 1 };
  } catch {
    throw refuseFile(
      file,
      'is neither a PEM nor a DER certificate; give the certificate file (.crt/.pem), not a key or request',
    );
  }
}

/** What the judging of routes needs besides the identity: the trusted CA names, and whether the handshake admits it. */
interface JudgeContext {
  trust: TrustedIssuers;
  handshakeAdmits: boolean;
}

/**
 * One route's allow list judged rule by rule, with the compiler the proxy uses; nothing is admitted that the handshake
 * refuses.
 */
function judgeSpec(
  route: string,
  methods: string[] | null,
  spec: AllowSpec,
  where: string,
  id: Identity,
  ctx: JudgeContext,
): InspectRouteResult {
  if (spec === 'any-verified') {
    const admittedBy = ctx.handshakeAdmits ? ['any-verified'] : [];
    return { route, methods, rules: ['any-verified'], admittedBy, admitted: admittedBy.length > 0 };
  }
  const rules: string[] = [];
  const admittedBy: string[] = [];
  for (const rule of spec) {
    const compiled = compileAllowRules([rule], where, ctx.trust);
    const label = compiled.labels[0] ?? '';
    rules.push(label);
    if (ctx.handshakeAdmits && compiled.matcher(id) !== null) admittedBy.push(label);
  }
  return { route, methods, rules, admittedBy, admitted: admittedBy.length > 0 };
}

/** Per route, then the default: which rules admit the identity. loadPolicy has already validated everything. */
function judgeRoutes(config: Config, id: Identity, ctx: JudgeContext): InspectRouteResult[] {
  const flagSpec = allowSpecFromFlags(config.allow, config.allowAnyVerified);
  const results: InspectRouteResult[] = [];
  if (config.policy === undefined) {
    if (flagSpec !== null)
      results.push(judgeSpec('default (from --allow-* flags)', null, flagSpec, FLAGS_WHERE, id, ctx));
    return results;
  }
  const file = config.policy;
  const doc = parsePolicyFile(readFileSync(file, 'utf8'), file);
  doc.routes.forEach((r, i) => {
    results.push(
      judgeSpec(`routes[${i}] ${r.path}`, r.methods ?? null, r.allow, `${file}: routes[${i}].allow`, id, ctx),
    );
  });
  if (doc.default) results.push(judgeSpec('default', null, doc.default.allow, `${file}: default.allow`, id, ctx));
  else if (flagSpec !== null)
    results.push(judgeSpec('default (from --allow-* flags)', null, flagSpec, FLAGS_WHERE, id, ctx));
  else results.push({ route: 'default', methods: null, rules: [], admittedBy: [], admitted: false });
  return results;
}

/** The --client-ca certificate that signed this one directly, if any. */
function findIssuingCa(cert: X509Certificate, caCerts: readonly X509Certificate[]): string | null {
  const issuer = caCerts.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  return issuer ? computeIdentity(issuer).subject : null;
}

function describeHandshake(verdict: HandshakeVerdict): NonNullable<InspectReport['authorization']>['handshake'] {
  return {
    admitted: verdict.refusal === null,
    reason: verdict.refusal,
    detail: verdict.detail,
    chain: verdict.chain.map((c) => tryComputeIdentity(c)?.subject ?? c.subject.replace(/\n/g, ',')),
  };
}

function describeNotes(cert: X509Certificate, id: Identity, count: number, forwardCert: boolean): string[] {
  const notes: string[] = [];
  if (count > 1)
    notes.push(`the file holds ${count} certificates; the first (the leaf, the one the proxy judges) is shown`);
  if (cert.ca) notes.push('this is a CA certificate (basicConstraints CA:TRUE), not a client certificate');
  const eku = id.extKeyUsage;
  if (eku.length > 0 && !eku.includes('clientAuth') && !eku.includes('anyExtendedKeyUsage')) {
    notes.push(
      'its extended key usage has no clientAuth: the proxy refuses it in the TLS handshake (reason bad_key_usage)',
    );
  }
  const cnCount = id.subjectRdns.flat().filter((a) => a.oid === '2.5.4.3').length;
  if (cnCount > 1)
    notes.push(`the subject has ${cnCount} CN attributes: no cn rule matches it and x-client-cn is not sent`);
  for (const uri of id.ignoredUris)
    notes.push(
      `URI SAN ${JSON.stringify(uri)} is left out of the identity (it matches no rule and is not forwarded): it ${uriSanProblem(uri) ?? ''}`,
    );
  if (!forwardCert)
    notes.push(
      'with --forward-cert the proxy also sends client-cert (RFC 9440) and a Cert= element in x-forwarded-client-cert',
    );
  return notes;
}

function computeIdentityOrRefuse(file: string, cert: X509Certificate): Identity {
  try {
    return computeIdentity(cert);
  } catch (err) {
    if (!(err instanceof DerError)) throw err;
    throw refuseFile(
      file,
      `the proxy cannot read an identity from this certificate (${err.message}), so it would refuse such a caller`,
    );
  }
}

/** `material` is what `run` loads for `config` (both or neither). */
export function buildInspectReport(
  file: string,
  config: Config | null,
  material: TlsMaterial | null = null,
  now = Date.now(),
): InspectReport {
  const { cert, rest, count } = readCertificateFile(file);
  const id = computeIdentityOrRefuse(file, cert);
  const forwardCert = config?.forwardCert ?? false;
  const daysLeft = Math.floor((id.notAfter.getTime() - now) / DAY_MS);
  const verdict = material ? judgeHandshake(cert, rest, id, material, now) : null;
  const dated = now < id.notBefore.getTime() ? 'not-yet-valid' : now > id.notAfter.getTime() ? 'expired' : 'valid';
  const status = dated === 'valid' && verdict?.refusal === 'revoked' ? 'revoked' : dated;
  const report: InspectReport = {
    file,
    identity: {
      subject: id.subject,
      issuer: id.issuer,
      cn: id.commonNames,
      ou: id.orgUnits,
      o: id.orgs,
      dns: id.dns,
      uri: id.uris,
      email: id.emails,
      ip: id.ips,
      serial: id.serial,
      fingerprintSha256: id.fingerprint256,
      notBefore: formatIsoSeconds(id.notBefore),
      notAfter: formatIsoSeconds(id.notAfter),
      extKeyUsage: id.extKeyUsage,
    },
    validity: { status, daysLeft },
    headers: Object.fromEntries(buildIdentityHeaders(id, { forwardCert })),
    notes: describeNotes(cert, id, count, forwardCert),
  };
  if (config && material && verdict) {
    const ctx: JudgeContext = { trust: trustedIssuersOf(material.caCerts), handshakeAdmits: verdict.refusal === null };
    report.authorization = {
      source: config.policy === undefined ? 'flags' : 'policy',
      policyFile: config.policy ?? null,
      issuedByClientCa: findIssuingCa(cert, material.caCerts),
      handshake: describeHandshake(verdict),
      routes: judgeRoutes(config, id, ctx),
    };
  }
  return report;
}

export async function inspectCommand(
  file: string,
  input: ConfigInput,
  opts: { json: boolean; withConfig: boolean },
): Promise<void> {
  let config: Config | null = null;
  let material: TlsMaterial | null = null;
  if (opts.withConfig) {
    // The same loaders as `run`, so a configuration `run` refuses is refused here too (exit 78).
    config = loadConfig(input);
    material = loadMaterialOrRefuse(config);
    loadPolicy(config, material.caCerts);
  }
  const report = buildInspectReport(file, config, material);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
}
