// Test-only PKI shapes that real deployments and attackers bring (openssl CLI): chains with intermediates, several
// CAs, weak keys, junk and oversized chains.
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, removeDir, type CertFiles } from './pki.js';

export interface CertSpec {
  /** openssl -subj syntax; default `/CN=${name}`. */
  subject?: string;
  /** Signing certificate; absent: self-signed. */
  issuer?: CertFiles;
  /** A CA certificate (keyCertSign, CA:TRUE); default false (a clientAuth leaf). */
  ca?: boolean;
  /** 'ec' (P-256 unless `ecCurve`) or 'rsa' (2048 unless `rsaBits`). */
  keyType?: 'ec' | 'rsa';
  rsaBits?: number;
  ecCurve?: string;
  /** Reuse this key file instead of generating one (junk certificates share one key). */
  keyFile?: string;
  /** Signature digest; default sha256. */
  digest?: 'sha256' | 'sha1' | 'md5';
  /** Extension lines replacing the defaults (openssl config syntax, section-free). */
  extLines?: string[];
  /** Extra lines after the defaults (ignored when `extLines` is given). */
  extraExtLines?: string[];
  /** Extra config sections appended verbatim (for `@section` references). */
  extSections?: string;
  days?: number;
  /** Decimal or 0x-hex, negative allowed. */
  serial?: string;
}

const CA_EXT = [
  'basicConstraints = critical,CA:TRUE',
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
];
const LEAF_EXT = [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage = clientAuth',
];

function newKey(path: string, spec: CertSpec): void {
  const algo =
    spec.keyType === 'rsa'
      ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.rsaBits ?? 2048}`]
      : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${spec.ecCurve ?? 'prime256v1'}`];
  openssl(['genpkey', ...algo, '-out', path]);
}

/** One certificate made exactly as specified (openssl x509 -req, which copies the request's subject bytes). */
export function makeCert(dir: string, name: string, spec: CertSpec = {}): CertFiles {
  const base = name.replace(/[^A-Za-z0-9._-]/g, '_');
  const key = spec.keyFile ?? join(dir, `${base}.key`);
  if (spec.keyFile === undefined) newKey(key, spec);
  const work = mkdtempSync(join(dir, '.cert-'));
  try {
    const defaults = spec.ca === true ? CA_EXT : LEAF_EXT;
    const ext = spec.extLines ?? [
      ...defaults,
      ...(spec.issuer ? ['authorityKeyIdentifier = keyid'] : []),
      ...(spec.extraExtLines ?? []),
    ];
    const conf = join(work, 'x.cnf');
    writeFileSync(
      conf,
      `[ req ]\ndistinguished_name = dn\nstring_mask = utf8only\n[ dn ]\n[ ext ]\n${ext.join('\n')}\n${spec.extSections ?? ''}\n`,
    );
    const csr = join(work, 'x.csr');
    openssl([
      'req',
      '-new',
      '-config',
      conf,
      '-key',
      key,
      '-utf8',
      '-subj',
      spec.subject ?? `/CN=${name}`,
      '-out',
      csr,
    ]);
    const cert = join(dir, `${base}.crt`);
    const signer = spec.issuer ? ['-CA', spec.issuer.cert, '-CAkey', spec.issuer.key] : ['-signkey', key];
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      ...signer,
      '-days',
      String(spec.days ?? 30),
      `-${spec.digest ?? 'sha256'}`,
      '-set_serial',
      spec.serial ?? `0x${openssl(['rand', '-hex', '12']).trim()}`,
      '-extfile',
      conf,
      '-extensions',
      'ext',
      '-out',
      cert,
    ]);
    return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), name };
  } finally {
    removeDir(work);
  }
}

export interface Chain {
  root: CertFiles;
  /** Top-most first: intermediates[0] is signed by the root, the leaf by the last one. */
  intermediates: CertFiles[];
  leaf: CertFiles;
  /** What a client configured with its chain sends: leaf, then its intermediates bottom-up (PEM). */
  sentPem: string;
}

/**
 * root → `intermediates` CAs → leaf. `root` may be given to hang another chain under an existing CA; `leaf` options
 * shape the leaf (default: a clientAuth EC leaf named `${prefix}-leaf` with a spiffe://example.org/ns/prod URI).
 */
export function makeChain(
  dir: string,
  prefix: string,
  opts: { intermediates?: number; root?: CertFiles; leaf?: CertSpec } = {},
): Chain {
  const root = opts.root ?? makeCert(dir, `${prefix}-root`, { ca: true, subject: `/CN=${prefix} Root CA`, days: 365 });
  const intermediates: CertFiles[] = [];
  let issuer = root;
  for (let i = 0; i < (opts.intermediates ?? 1); i += 1) {
    issuer = makeCert(dir, `${prefix}-int${i + 1}`, {
      ca: true,
      issuer,
      subject: `/CN=${prefix} Intermediate ${i + 1}`,
      days: 365,
    });
    intermediates.push(issuer);
  }
  const leaf = makeCert(dir, `${prefix}-leaf`, {
    issuer,
    extraExtLines: [`subjectAltName = URI:spiffe://example.org/ns/prod/sa/${prefix}`],
    ...opts.leaf,
  });
  return { root, intermediates, leaf, sentPem: pemOf(leaf, ...[...intermediates].reverse()) };
}

/** A self-signed certificate padded by a non-critical private extension to about `bytes` of DER. */
export function makeJunkCertificate(dir: string, name: string, bytes: number, keyFile?: string): CertFiles {
  const pad = Math.max(0, bytes - 600);
  // OCTET STRING of `pad` bytes, as DER hex, in a config file (too long for one command-line argument).
  const lenBytes =
    pad < 0x80
      ? [pad]
      : pad < 0x10000
        ? [0x82, pad >> 8, pad & 0xff]
        : [0x83, pad >> 16, (pad >> 8) & 0xff, pad & 0xff];
  const der = Buffer.concat([Buffer.from([0x04, ...lenBytes]), Buffer.alloc(pad, 0x41)]);
  return makeCert(dir, name, {
    keyFile,
    ca: true,
    extLines: ['basicConstraints = critical,CA:TRUE', `1.3.6.1.4.1.55555.1 = DER:${der.toString('hex')}`],
  });
}

/** `count` distinct small self-signed certificates sharing one key (cheap to make): junk a hostile client sends. */
export function makeJunkCertificates(dir: string, prefix: string, count: number): CertFiles[] {
  const keyFile = join(dir, `${prefix}-junk.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', keyFile]);
  const out: CertFiles[] = [];
  for (let i = 0; i < count; i += 1)
    out.push(
      makeCert(dir, `${prefix}-junk-${i}`, { keyFile, ca: true, extLines: ['basicConstraints = critical,CA:TRUE'] }),
    );
  return out;
}

/** PEM of the certificates in the order given. */
export function pemOf(...certs: CertFiles[]): string {
  return certs.map((c) => (c.certPem.endsWith('\n') ? c.certPem : `${c.certPem}\n`)).join('');
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * A leaf (EC issuer required) carrying two subjectAltName extensions, which the openssl CLI refuses to write: made
 * with a placeholder extension 2.5.29.99 of the same length, renamed to 2.5.29.17 in the DER and signed again with
 * Node's crypto.
 */
export function makeDuplicateSanLeaf(dir: string, name: string, issuer: CertFiles): CertFiles {
  const san = '300b8209622e6578616d706c65'; // GeneralNames { dNSName "b.example" }
  const made = makeCert(dir, name, {
    issuer,
    extraExtLines: ['subjectAltName = URI:spiffe://example.org/ns/prod/sa/dup', `2.5.29.99 = DER:${san}`],
  });
  const der = Buffer.from(made.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  // Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }: find the TBS by its own header.
  const outerHeader = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const tbsLenBytes = der[outerHeader + 1]! & 0x80 ? der[outerHeader + 1]! & 0x7f : 0;
  const tbsLen =
    tbsLenBytes === 0
      ? der[outerHeader + 1]!
      : der.subarray(outerHeader + 2, outerHeader + 2 + tbsLenBytes).reduce((n, b) => n * 256 + b, 0);
  const tbsEnd = outerHeader + 2 + tbsLenBytes + tbsLen;
  const tbs = Buffer.from(der.subarray(outerHeader, tbsEnd));
  const placeholder = tbs.indexOf(Buffer.from('0603551d63', 'hex'));
  if (placeholder < 0) throw new Error('makeDuplicateSanLeaf: placeholder extension not found');
  tbs[placeholder + 4] = 0x11;
  const sigAlg = der.subarray(tbsEnd, tbsEnd + 2 + der[tbsEnd + 1]!);
  const signature = sign('sha256', tbs, createPrivateKey(issuer.keyPem));
  const bitString = Buffer.concat([Buffer.from([0x03]), derLength(signature.length + 1), Buffer.from([0]), signature]);
  const body = Buffer.concat([tbs, sigAlg, bitString]);
  const cert = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  writeFileSync(made.cert, pem);
  return { ...made, certPem: pem };
}
