// The `check` and `inspect` report shapes (their --json output) and their plain-text rendering; pure, no I/O.
import type { Finding, Severity } from '../posture/types.js';
import { OVERRIDE_HINT } from '../posture/enforce.js';
import { formatFindings } from '../posture/report.js';
import { escapeForTerminal } from '../identity/printable.js';

/**
 * ok: passed; failed: problems listed; skipped: an earlier stage failed; overridden: critical posture,
 * --allow-insecure-posture set.
 */
export type StageStatus = 'ok' | 'failed' | 'skipped' | 'overridden';

export type StageName = 'config' | 'material' | 'policy' | 'posture';

export interface StageResult {
  status: StageStatus;
  problems: string[];
  /**
   * How to get past a failed stage other than fixing each problem (posture: the override), not counted as a problem.
   */
  override?: string;
}

export interface CertificateEntry {
  /**
   * `server` is the leaf of --cert, `server-chain` the intermediates after it, `client-ca` each certificate of
   * --client-ca.
   */
  role: 'server' | 'server-chain' | 'client-ca';
  file: string;
  /** RFC 4514, as `openssl x509 -noout -subject -nameopt RFC2253` prints it. */
  subject: string;
  issuer: string;
  /** Uppercase hex, no colons (openssl x509 -serial). */
  serial: string;
  /** Lowercase hex, no colons. */
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter, negative once expired. */
  daysLeft: number;
}

export interface CrlEntry {
  /** RFC 4514 subject of the client CA that signed the CRL. */
  issuer: string;
  thisUpdate: string;
  nextUpdate: string | null;
  /** Whole days until nextUpdate, negative when the CRL is stale; null without nextUpdate. */
  daysLeft: number | null;
  revoked: number;
}

export interface CheckReport {
  /** True exactly when `run` would start with this configuration. */
  ok: boolean;
  /** Each stage of start-up in order, with the problems it found. */
  checks: Record<StageName, StageResult>;
  /**
   * Every stage's problems together: everything that stops `run` from starting, each naming the flag, key or file and
   * the fix.
   */
  problems: string[];
  /** Worth knowing, does not stop `run` (expiry soon, stale CRL). */
  warnings: string[];
  certificates: CertificateEntry[];
  crls: CrlEntry[];
  /** Compiled policy, one line per route and one for the default (rule labels only). */
  policy: string[];
  posture: { findings: Finding[]; counts: Record<Severity, number>; allowInsecurePosture: boolean };
}

/** X.509 times have whole seconds: `2027-01-01T00:00:00Z`, as in the X-Client-Not-After header. */
export function formatIsoSeconds(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

const STATUS_TEXT: Record<StageStatus, string> = {
  ok: 'OK',
  failed: 'FAILED',
  skipped: 'not checked (an earlier step failed)',
  overridden: 'critical findings, allowed by --allow-insecure-posture',
};

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : by + line))
    .join('\n');
}

function describeDays(days: number | null, what: string): string {
  if (days === null) return `no ${what}`;
  if (days < 0) return `${what} ${-days} days ago`;
  return `${days} days left`;
}

const ROLE_TEXT: Record<CertificateEntry['role'], string> = {
  server: 'server',
  'server-chain': 'server chain',
  'client-ca': 'client CA',
};

function formatCertificate(cert: CertificateEntry): string {
  const expiry = cert.daysLeft < 0 ? `EXPIRED ${-cert.daysLeft} days ago` : `${cert.daysLeft} days left`;
  return [
    `${ROLE_TEXT[cert.role]}: ${cert.subject}`,
    `  file ${cert.file}`,
    `  serial ${cert.serial}, sha256 ${cert.fingerprintSha256}`,
    `  not after ${cert.notAfter} (${expiry})`,
  ].join('\n');
}

function formatCrl(crl: CrlEntry): string {
  const next =
    crl.nextUpdate === null
      ? 'no nextUpdate'
      : `next update ${crl.nextUpdate} (${describeDays(crl.daysLeft, 'stale since')})`;
  return `issuer ${crl.issuer}: ${crl.revoked} revoked, ${next}`;
}

function formatSection(
  title: string,
  status: StageStatus | null,
  body: string[],
  statusText = status === null ? '' : STATUS_TEXT[status],
): string {
  const head = statusText === '' ? `${title}:` : `${title}: ${statusText}`;
  return body.length === 0 ? head : `${head}\n${body.map((b) => indent(b)).join('\n')}`;
}

/** The human-readable `check` report: one section per stage, then warnings and the verdict. */
export function formatCheckReport(report: CheckReport): string {
  const bullet = (items: string[]): string[] => items.map((p) => `- ${p}`);
  const { checks } = report;
  const { counts } = report.posture;
  const refusal = checks.posture.status === 'failed' ? [`=> refused: ${OVERRIDE_HINT}`] : [];
  const sections = [
    formatSection('config', checks.config.status, bullet(checks.config.problems)),
    formatSection('certificates', checks.material.status, [
      ...bullet(checks.material.problems),
      ...report.certificates.map(formatCertificate),
    ]),
    report.crls.length === 0
      ? 'CRLs: none loaded'
      : formatSection(`CRLs (${report.crls.length} loaded)`, null, report.crls.map(formatCrl)),
    formatSection('policy', checks.policy.status, [...bullet(checks.policy.problems), ...report.policy]),
    formatSection(
      // Without a configuration the findings are shown, but whether they would refuse the start is unknown.
      `posture (${counts.critical} critical, ${counts.warn} warn, ${counts.info} info)`,
      checks.posture.status,
      report.posture.findings.length === 0 ? [] : [formatFindings(report.posture.findings), ...refusal],
      checks.posture.status === 'skipped' ? 'not judged (no configuration)' : STATUS_TEXT[checks.posture.status],
    ),
  ];
  if (report.warnings.length > 0) sections.push(formatSection('warnings', null, bullet(report.warnings)));
  sections.push(
    report.ok
      ? 'result: OK, run would start'
      : `result: FAILED, run would refuse to start (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'})`,
  );
  return `${sections.join('\n\n')}\n`;
}

export interface InspectRouteResult {
  /** `routes[0] /admin`, or `default` / `default (from --allow-* flags)`. */
  route: string;
  methods: string[] | null;
  /** Every rule of this route's allow list, as labels. */
  rules: string[];
  /** The rules that admit this certificate; empty means refused on this route. */
  admittedBy: string[];
  admitted: boolean;
}

export interface InspectReport {
  file: string;
  identity: {
    subject: string;
    issuer: string;
    cn: string[];
    ou: string[];
    o: string[];
    dns: string[];
    uri: string[];
    email: string[];
    ip: string[];
    serial: string;
    fingerprintSha256: string;
    notBefore: string;
    notAfter: string;
    extKeyUsage: string[];
  };
  /** `revoked`: within its dates, but a loaded CRL revokes it or an issuer of its chain (only with a configuration). */
  validity: { status: 'valid' | 'expired' | 'not-yet-valid' | 'revoked'; daysLeft: number };
  /** The identity headers the proxy sets for this caller, lowercase names, in the order it sets them. */
  headers: Record<string, string>;
  notes: string[];
  /** Present when a configuration was given. */
  authorization?: {
    source: 'flags' | 'policy';
    policyFile: string | null;
    /**
     * Subject of the --client-ca certificate that issued it directly, or null (chains through intermediates are not
     * followed here).
     */
    issuedByClientCa: string | null;
    /** The TLS handshake's verdict as `run` would reach it (chain to --client-ca, dates, clientAuth, CRLs). */
    handshake: { admitted: boolean; reason: string | null; detail: string; chain: string[] };
    /** Per route; nothing is admitted when the handshake refuses. */
    routes: InspectRouteResult[];
  };
}

/** Decoded certificate values: control and bidi characters and `\` as `\XX`, so no value can forge a line. */
function raw(value: string): string {
  return escapeForTerminal(value, true);
}

function formatList(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.map(raw).join(', ');
}

const VALIDITY_TEXT: Record<InspectReport['validity']['status'], (days: number) => string> = {
  valid: (days) => `valid, ${days} days left`,
  revoked: (days) => `REVOKED (dates valid, ${days} days left)`,
  expired: (days) => `EXPIRED ${-days} days ago`,
  'not-yet-valid': () => 'NOT YET VALID',
};

/** The human-readable `inspect` output; every line is safe to print to a terminal. */
export function formatInspectReport(report: InspectReport): string {
  const id = report.identity;
  const v = report.validity;
  const validity = VALIDITY_TEXT[v.status](v.daysLeft);
  const lines = [
    `file:          ${raw(report.file)}`,
    `subject:       ${id.subject}`,
    `issuer:        ${id.issuer}`,
    `CN:            ${formatList(id.cn)}`,
    `OU:            ${formatList(id.ou)}`,
    `O:             ${formatList(id.o)}`,
    `DNS SANs:      ${formatList(id.dns)}`,
    `URI SANs:      ${formatList(id.uri)}`,
    `email SANs:    ${formatList(id.email)}`,
    `IP SANs:       ${formatList(id.ip)}`,
    `serial:        ${id.serial}`,
    `SHA-256:       ${id.fingerprintSha256}`,
    `not before:    ${id.notBefore}`,
    `not after:     ${id.notAfter} (${validity})`,
    `EKU:           ${formatList(id.extKeyUsage)}`,
    '',
    'identity headers sent upstream:',
    ...Object.entries(report.headers).map(([name, value]) => `  ${name}: ${value}`),
  ];
  if (report.notes.length > 0) lines.push('', 'notes:', ...report.notes.map((n) => `  - ${n}`));
  const authz = report.authorization;
  if (authz) {
    lines.push(
      '',
      `authorization (${authz.source === 'policy' ? `policy ${authz.policyFile ?? ''}` : '--allow-* flags'}):`,
    );
    lines.push(
      `  issued by a --client-ca: ${authz.issuedByClientCa ?? 'NO (not directly; the TLS handshake would need an intermediate, or refuse it as unknown_ca)'}`,
    );
    const hs = authz.handshake;
    lines.push(`  chain: ${hs.chain.join(' <- ')}`);
    lines.push(`  TLS handshake: ${hs.admitted ? 'ADMITTED' : `REFUSED (${hs.reason ?? 'other'}: ${hs.detail})`}`);
    for (const route of authz.routes) {
      const methods = route.methods ? ` [${route.methods.join(', ')}]` : '';
      const rules = `rules: ${route.rules.length === 0 ? 'none' : route.rules.join(' | ')}`;
      const refused = hs.admitted ? `REFUSED (${rules})` : `REFUSED at the TLS handshake (${rules})`;
      lines.push(
        `  ${route.route}${methods}: ${route.admitted ? `ADMITTED by ${route.admittedBy.join(' | ')}` : refused}`,
      );
    }
  }
  return `${lines.map((line) => escapeForTerminal(line)).join('\n')}\n`;
}
