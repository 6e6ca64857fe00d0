// Certificates with unusual encodings, made with the openssl CLI (string masks, -multivalue-rdn, -set_serial, raw DER
// SAN extensions).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, removeDir, type CertFiles } from '../../helpers/pki.js';

export interface HostileSpec {
  name: string;
  /** openssl -subj value ('/' for an empty subject). */
  subject: string;
  /** openssl string_mask: 'utf8only', 'pkix' (BMPString for non-ASCII), 'default' (T61String for Latin-1). */
  stringMask?: 'utf8only' | 'pkix' | 'default' | 'nombstr';
  multivalueRdn?: boolean;
  /** Decimal or 0x-hex, negative allowed (openssl -set_serial). */
  serial?: string;
  /** subjectAltName lines for an openssl config (`URI.1 = ...`), or raw GeneralNames DER via `sanDer`. */
  sanLines?: string[];
  sanDer?: Buffer;
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** GeneralNames DER from [type, raw bytes] pairs, for SAN values openssl's config syntax cannot carry (NUL, CR, LF). */
export function generalNamesDer(names: Array<['dns' | 'uri' | 'email', Buffer | string]>): Buffer {
  const tags = { email: 0x81, dns: 0x82, uri: 0x86 } as const;
  return tlv(
    0x30,
    Buffer.concat(
      names.map(([type, value]) => tlv(tags[type], Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'))),
    ),
  );
}

/** Signs a leaf for `spec` with `openssl x509 -req`, which copies the request's subject bytes untouched. */
export function makeHostileLeaf(dir: string, spec: HostileSpec, issuer: CertFiles): CertFiles {
  const work = mkdtempSync(join(dir, '.hostile-'));
  try {
    const key = join(dir, `${spec.name}.key`);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
    const reqConf = join(work, 'req.cnf');
    writeFileSync(
      reqConf,
      `[ req ]\ndistinguished_name = dn\nstring_mask = ${spec.stringMask ?? 'utf8only'}\nutf8 = yes\n[ dn ]\n`,
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
      ...(spec.multivalueRdn ? ['-multivalue-rdn'] : []),
      '-subj',
      spec.subject,
      '-out',
      csr,
    ]);
    const ext = [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
    ];
    // An empty subject obliges a critical SAN (RFC 5280 4.2.1.6).
    const critical = spec.subject === '/' ? 'critical,' : '';
    if (spec.sanDer) ext.push(`subjectAltName = ${critical}DER:${spec.sanDer.toString('hex')}`);
    else if (spec.sanLines) ext.push(`subjectAltName = ${critical}@alt`, '[ alt ]', ...spec.sanLines);
    const extFile = join(work, 'ext.cnf');
    writeFileSync(extFile, `[ ext ]\n${ext.join('\n')}\n`);
    const cert = join(dir, `${spec.name}.crt`);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      issuer.cert,
      '-CAkey',
      issuer.key,
      '-days',
      '30',
      '-sha256',
      '-set_serial',
      spec.serial ?? `0x${openssl(['rand', '-hex', '12']).trim()}`,
      '-extfile',
      extFile,
      '-extensions',
      'ext',
      '-out',
      cert,
    ]);
    return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), name: spec.name };
  } finally {
    removeDir(work);
  }
}

const PROD = 'spiffe://example.org/ns/prod/sa';

/** The catalogue: every shape the identity code must survive, each authorized by a URI SAN under PROD unless noted. */
export function hostileSpecs(): HostileSpec[] {
  const longOus = Array.from({ length: 120 }, (_, i) => `/OU=${`unit-${i}-`.padEnd(60, 'x')}`).join('');
  const manySans = [
    `URI.1 = ${PROD}/many`,
    ...Array.from({ length: 300 }, (_, i) => `DNS.${i + 1} = host-${i}.many.example`),
    ...Array.from({ length: 60 }, (_, i) => `URI.${i + 2} = spiffe://other.example/${i}`),
    ...Array.from({ length: 40 }, (_, i) => `email.${i + 1} = user${i}@many.example`),
  ];
  return [
    { name: 'bmpstring', subject: '/O=Acme/CN=Zoë 日本', stringMask: 'pkix', sanLines: [`URI.1 = ${PROD}/bmp`] },
    { name: 't61string', subject: '/O=Acme/CN=Zoë', stringMask: 'default', sanLines: [`URI.1 = ${PROD}/t61`] },
    { name: 'empty-subject', subject: '/', sanLines: [`URI.1 = ${PROD}/empty-subject`] },
    { name: 'long-subject', subject: `/O=Acme${longOus}/CN=long`, sanLines: [`URI.1 = ${PROD}/long`] },
    { name: 'hundreds-of-sans', subject: '/CN=many', sanLines: manySans },
    {
      name: 'control-byte-sans',
      subject: '/CN=ctl-sans',
      sanDer: generalNamesDer([
        ['uri', `${PROD}/ctl\r\nX-Injected: 1`],
        ['uri', `${PROD}/nul\x00after`],
        ['dns', 'a\x00b.example'],
        ['dns', 'c";d,e=f\\g.example'],
        ['email', 'x\x7f\x1b[31m@y.example'],
        ['uri', Buffer.from([...Buffer.from(`${PROD}/latin1-`), 0xe9, 0xff])],
      ]),
    },
    {
      // The same hostile values next to one clean URI, so the caller is admitted and they all reach the headers.
      name: 'control-byte-sans-admitted',
      subject: '/CN=ctl-sans-2',
      sanDer: generalNamesDer([
        ['uri', `${PROD}/clean`],
        ['uri', `${PROD}/ctl\r\nX-Injected: 1`],
        ['dns', 'a\x00b.example'],
        ['dns', 'c";d,e=f\\g.example'],
        ['email', 'x\x7f\x1b[31m@y.example'],
      ]),
    },
    {
      name: 'control-byte-subject',
      subject: '/O=a"b;c,d\\=e\\+f/CN=ctl\r\nX-Injected: 1\x07\x1b',
      sanLines: [`URI.1 = ${PROD}/ctl-subject`],
    },
    {
      name: 'multivalue-rdn',
      subject: '/O=Acme/CN=mv+OU=payments+UID=42',
      multivalueRdn: true,
      sanLines: [`URI.1 = ${PROD}/mv`],
    },
    { name: 'duplicate-cn', subject: '/CN=first/CN=second/CN=', sanLines: [`URI.1 = ${PROD}/dup-cn`] },
    { name: 'negative-serial', subject: '/CN=negative', serial: '-1234', sanLines: [`URI.1 = ${PROD}/negative`] },
    { name: 'zero-serial', subject: '/CN=zero', serial: '0', sanLines: [`URI.1 = ${PROD}/zero`] },
    { name: 'huge-serial', subject: '/CN=huge', serial: `0x${'ff'.repeat(40)}`, sanLines: [`URI.1 = ${PROD}/huge`] },
    { name: 'wildcard-literal-uri', subject: '/CN=star', sanLines: [`URI.1 = ${PROD}/*`, 'DNS.1 = *.*.example'] },
  ];
}
