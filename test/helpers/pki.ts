// Test-only PKI built with the openssl CLI, so certificates come from a source independent of our code.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
  name: string;
}

export interface LeafOptions {
  /** openssl -subj syntax, UTF-8 allowed; default `/CN=${name}`. */
  subject?: string;
  /** openssl syntax entries: 'DNS:a.example', 'URI:spiffe://…', 'email:a@b', 'IP:127.0.0.1'. */
  san?: string[];
  /** Default 'clientAuth'; 'none' omits the extension. */
  eku?: string;
  days?: number;
  /** 'YYYYMMDDHHMMSSZ' */
  notBefore?: string;
  notAfter?: string;
  /** Hex, e.g. '00DEADBEEF'. */
  serial?: string;
  keyType?: 'ec' | 'rsa';
}

export function makeTmpDir(prefix = 'mtls-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs the openssl CLI and returns stdout; throws with openssl's stderr on failure. */
export function openssl(args: string[], input?: string | Buffer): string {
  try {
    return execFileSync('openssl', args, {
      input: input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message?: string };
    const stderr = e.stderr ? e.stderr.toString() : (e.message ?? String(err));
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim()}`);
  }
}

/** Values inside an openssl config file: '#' starts a comment and '$' expands a variable unless escaped. */
function escapeConfValue(value: string): string {
  return value.replace(/[\\#$"']/g, (c) => `\\${c}`);
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || 'cert';
}

function generateKey(path: string, keyType: 'ec' | 'rsa'): void {
  const algo =
    keyType === 'rsa'
      ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
      : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(['genpkey', ...algo, '-out', path]);
  chmodSync(path, 0o600);
}

const REQ_CONF = `[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
x509_extensions = v3_root
[ dn ]
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

function caConf(work: string, extSection: string): string {
  return `[ ca ]
default_ca = ca_default
[ ca_default ]
dir = ${work}
database = ${work}/index.txt
new_certs_dir = ${work}
serial = ${work}/serial
crlnumber = ${work}/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
utf8 = yes
string_mask = utf8only
[ policy_any ]
commonName = optional
${extSection}`;
}

function finishFiles(name: string, cert: string, key: string): CertFiles {
  return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), name };
}

interface SignRequest {
  subject: string;
  extLines: string[];
  days: number;
  notBefore?: string;
  notAfter?: string;
  serial?: string;
}

/** Signs a fresh CSR with `openssl ca`, the one CLI in OpenSSL 3.0 that takes explicit start and end dates. */
function signWithCa(dir: string, fileBase: string, keyPath: string, issuer: CertFiles, req: SignRequest): string {
  const work = mkdtempSync(join(dir, '.ca-'));
  try {
    const confPath = join(work, 'ca.cnf');
    const reqConfPath = join(work, 'req.cnf');
    writeFileSync(reqConfPath, REQ_CONF);
    writeFileSync(confPath, caConf(work, `[ ext ]\n${req.extLines.join('\n')}\n`));
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'index.txt.attr'), 'unique_subject = no\n');
    const serial =
      req.serial ??
      openssl(['rand', '-hex', '16'])
        .trim()
        .replace(/^[89a-f]/i, '1');
    writeFileSync(join(work, 'serial'), `${serial}\n`);
    const csr = join(work, 'req.csr');
    openssl(['req', '-new', '-config', reqConfPath, '-key', keyPath, '-subj', req.subject, '-utf8', '-out', csr]);
    const certPath = join(dir, `${fileBase}.crt`);
    const dates: string[] = [];
    if (req.notBefore) dates.push('-startdate', req.notBefore);
    if (req.notAfter) dates.push('-enddate', req.notAfter);
    else dates.push('-days', String(req.days));
    openssl([
      'ca',
      '-batch',
      '-config',
      confPath,
      '-notext',
      '-preserveDN',
      '-utf8',
      '-cert',
      issuer.cert,
      '-keyfile',
      issuer.key,
      '-extensions',
      'ext',
      ...dates,
      '-in',
      csr,
      '-out',
      certPath,
    ]);
    return certPath;
  } finally {
    removeDir(work);
  }
}

export function makeCa(
  dir: string,
  name: string,
  opts: { subject?: string; issuer?: CertFiles; days?: number; notBefore?: string; notAfter?: string } = {},
): CertFiles {
  const base = safeFileName(name);
  const key = join(dir, `${base}.key`);
  generateKey(key, 'ec');
  const subject = opts.subject ?? `/CN=${name}`;
  const days = opts.days ?? 365;
  if (!opts.issuer) {
    const work = mkdtempSync(join(dir, '.req-'));
    try {
      const reqConfPath = join(work, 'req.cnf');
      writeFileSync(reqConfPath, REQ_CONF);
      const cert = join(dir, `${base}.crt`);
      openssl([
        'req',
        '-x509',
        '-new',
        '-config',
        reqConfPath,
        '-key',
        key,
        '-subj',
        subject,
        '-utf8',
        '-days',
        String(days),
        '-sha256',
        '-out',
        cert,
      ]);
      return finishFiles(name, cert, key);
    } finally {
      removeDir(work);
    }
  }
  const cert = signWithCa(dir, base, key, opts.issuer, {
    subject,
    days,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    extLines: [
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
    ],
  });
  return finishFiles(name, cert, key);
}

export function makeLeaf(dir: string, name: string, issuer: CertFiles, opts: LeafOptions = {}): CertFiles {
  const base = safeFileName(name);
  const key = join(dir, `${base}.key`);
  generateKey(key, opts.keyType ?? 'ec');
  const extLines = [
    'basicConstraints = critical,CA:FALSE',
    `keyUsage = critical,digitalSignature${opts.keyType === 'rsa' ? ',keyEncipherment' : ''}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  const eku = opts.eku ?? 'clientAuth';
  if (eku !== 'none') extLines.push(`extendedKeyUsage = ${eku}`);
  const san = opts.san ?? [];
  if (san.length > 0) {
    extLines.push('subjectAltName = @alt', '[ alt ]');
    const counters = new Map<string, number>();
    for (const entry of san) {
      const colon = entry.indexOf(':');
      if (colon < 1) throw new Error(`makeLeaf: SAN entry needs TYPE:value, got ${entry}`);
      const type = entry.slice(0, colon);
      const n = (counters.get(type) ?? 0) + 1;
      counters.set(type, n);
      extLines.push(`${type}.${n} = ${escapeConfValue(entry.slice(colon + 1))}`);
    }
  }
  const cert = signWithCa(dir, base, key, issuer, {
    subject: opts.subject ?? `/CN=${name}`,
    extLines,
    days: opts.days ?? 30,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    serial: opts.serial,
  });
  return finishFiles(name, cert, key);
}

/** A PEM CRL signed by `issuer` listing `revoked`; negative nextUpdateHours makes an already-stale CRL. */
export function makeCrl(
  dir: string,
  issuer: CertFiles,
  revoked: CertFiles[],
  opts: { nextUpdateHours?: number } = {},
): string {
  const nextUpdateMs = Date.now() + (opts.nextUpdateHours ?? 24) * 3_600_000;
  return makeCrlWithNumber(dir, issuer, revoked, {
    crlNumber: 0x1000,
    // Explicit dates, because -crlhours refuses the negative values a stale CRL needs.
    lastUpdateMs: Math.min(Date.now() - 60_000, nextUpdateMs - 86_400_000),
    nextUpdateMs,
    revokedAtMs: Date.now() - 120_000,
  });
}

function formatAsn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export function chainPem(...certs: CertFiles[]): string {
  return certs.map((c) => (c.certPem.endsWith('\n') ? c.certPem : `${c.certPem}\n`)).join('');
}

/**
 * A CA certificate signed by `issuer` with extra extension lines (e.g. 'nameConstraints =
 * critical,permitted;URI:example.org').
 */
export function makeCaWithExtensions(
  dir: string,
  name: string,
  issuer: CertFiles,
  extra: string[],
  opts: { subject?: string; days?: number } = {},
): CertFiles {
  const base = safeFileName(name);
  const key = join(dir, `${base}.key`);
  generateKey(key, 'ec');
  const cert = signWithCa(dir, base, key, issuer, {
    subject: opts.subject ?? `/CN=${name}`,
    days: opts.days ?? 365,
    extLines: [
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      ...extra,
    ],
  });
  return finishFiles(name, cert, key);
}

/**
 * A client leaf whose subject keeps the encoding `openssl req` chose for it: `stringMask: 'default'` makes non-Latin-1
 * text a BMPString, 'utf8only' a UTF8String; `multiValueRdn` reads `+` as joining attributes of one RDN. Signed with
 * `openssl x509 -req`, which copies the request's subject byte for byte.
 */
export function makeLeafWithRawSubject(
  dir: string,
  name: string,
  issuer: CertFiles,
  opts: { subject: string; stringMask?: 'default' | 'utf8only'; multiValueRdn?: boolean; san?: string[] },
): CertFiles {
  const base = safeFileName(name);
  const key = join(dir, `${base}.key`);
  generateKey(key, 'ec');
  const work = mkdtempSync(join(dir, '.raw-'));
  try {
    const reqConf = join(work, 'req.cnf');
    writeFileSync(
      reqConf,
      `[ req ]\ndistinguished_name = dn\nstring_mask = ${opts.stringMask ?? 'utf8only'}\nutf8 = yes\n[ dn ]\n`,
    );
    const csr = join(work, 'req.csr');
    openssl([
      'req',
      '-new',
      '-config',
      reqConf,
      '-key',
      key,
      '-utf8',
      ...(opts.multiValueRdn ? ['-multivalue-rdn'] : []),
      '-subj',
      opts.subject,
      '-out',
      csr,
    ]);
    const ext = join(work, 'ext.cnf');
    const san = (opts.san ?? []).map(
      (entry, i) =>
        `${entry.slice(0, entry.indexOf(':'))}.${i + 1} = ${escapeConfValue(entry.slice(entry.indexOf(':') + 1))}`,
    );
    writeFileSync(
      ext,
      [
        '[ ext ]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        'extendedKeyUsage = clientAuth',
        'authorityKeyIdentifier = keyid',
        ...(san.length > 0 ? ['subjectAltName = @alt', '[ alt ]', ...san] : []),
        '',
      ].join('\n'),
    );
    const cert = join(dir, `${base}.crt`);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      issuer.cert,
      '-CAkey',
      issuer.key,
      '-set_serial',
      `0x${openssl(['rand', '-hex', '8']).trim()}`,
      '-days',
      '30',
      '-sha256',
      '-extfile',
      ext,
      '-extensions',
      'ext',
      '-out',
      cert,
    ]);
    return finishFiles(name, cert, key);
  } finally {
    removeDir(work);
  }
}

/** A PEM CRL like makeCrl's, with a chosen cRLNumber and explicit lastUpdate/nextUpdate (ms since the epoch). */
export function makeCrlWithNumber(
  dir: string,
  issuer: CertFiles,
  revoked: CertFiles[],
  opts: { crlNumber: number; lastUpdateMs?: number; nextUpdateMs?: number; revokedAtMs?: number },
): string {
  const work = mkdtempSync(join(dir, '.crln-'));
  try {
    const confPath = join(work, 'ca.cnf');
    writeFileSync(confPath, caConf(work, '[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n'));
    const revokedAt = formatAsn1Time(opts.revokedAtMs ?? Date.now() - 3_600_000).slice(2);
    const lines = revoked.map((c) => {
      const serial = openssl(['x509', '-noout', '-serial', '-in', c.cert])
        .trim()
        .replace(/^serial=/, '');
      // index.txt columns: status, expiry, revocation date, serial, file, subject (only serial matters here)
      return `R\t491231235959Z\t${revokedAt}\t${serial}\tunknown\t/CN=revoked`;
    });
    writeFileSync(join(work, 'index.txt'), lines.map((l) => `${l}\n`).join(''));
    writeFileSync(join(work, 'index.txt.attr'), 'unique_subject = no\n');
    const hex = opts.crlNumber.toString(16).toUpperCase();
    writeFileSync(join(work, 'crlnumber'), `${hex.length % 2 === 1 ? `0${hex}` : hex}\n`);
    const lastUpdate = opts.lastUpdateMs ?? Date.now() - 60_000;
    const nextUpdate = opts.nextUpdateMs ?? lastUpdate + 86_400_000;
    const crl = join(
      dir,
      `${safeFileName(issuer.name)}-n${opts.crlNumber}-${Date.now()}-${Math.floor(Math.random() * 1e6)}.crl.pem`,
    );
    openssl([
      'ca',
      '-batch',
      '-gencrl',
      '-config',
      confPath,
      '-cert',
      issuer.cert,
      '-keyfile',
      issuer.key,
      '-crlexts',
      'crl_ext',
      '-crl_lastupdate',
      formatAsn1Time(lastUpdate),
      '-crl_nextupdate',
      formatAsn1Time(nextUpdate),
      '-out',
      crl,
    ]);
    return crl;
  } finally {
    removeDir(work);
  }
}
