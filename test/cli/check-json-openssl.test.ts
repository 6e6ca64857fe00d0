// `check --json` lists the server certificate and every client CA with the subject, serial, fingerprint and dates
// openssl reads from the same files.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { chainPem, makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { readOpensslCert } from '../containment/helpers/openssl-fields.js';

const DAY_MS = 86_400_000;

interface CertEntry {
  role: string;
  file: string;
  subject: string;
  issuer: string;
  serial: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

/** `20270101000000Z` for openssl ca -enddate. */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

t.test('check --json against openssl', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-check-');
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root', { subject: '/C=US/O=Acme, Inc./CN=Root "One"', days: 3650 });
  const other = makeCa(dir, 'other', { subject: '/O=Other/OU=Ops+L=Berlin/CN=Other CA', days: 400 });
  const third = makeCa(dir, 'third', { subject: '/CN=Third CA' });
  const before = Date.now();
  const server = makeLeaf(dir, 'server', root, {
    subject: '/O=Acme, Inc./CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
    serial: '00DEADBEEF0102',
    notAfter: asn1Time(before + 10.5 * DAY_MS),
  });
  const bundle = join(dir, 'bundle.pem');
  writeFileSync(bundle, chainPem(root, other));

  const args = [
    'check',
    '--json',
    '--allow-insecure-posture',
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    bundle,
    '--client-ca',
    third.cert,
    '--allow-cn',
    'orders',
  ];
  const result = runCli(args);
  const after = Date.now();
  t.equal(result.status, 0, `exit 0 when run would start\n${result.stderr}`);
  const report = JSON.parse(result.stdout) as {
    ok: boolean;
    certificates: CertEntry[];
    policy: string[];
    checks: Record<string, { status: string }>;
  };
  t.equal(report.ok, true);
  t.same(
    Object.values(report.checks)
      .map((c) => c.status)
      .filter((s) => s !== 'ok' && s !== 'overridden'),
    [],
  );
  t.same(
    report.certificates.map((c) => [c.role, c.file]),
    [
      ['server', server.cert],
      ['client-ca', bundle],
      ['client-ca', bundle],
      ['client-ca', third.cert],
    ],
  );

  const expected = [
    readOpensslCert(server.cert),
    readOpensslCert(root.cert),
    readOpensslCert(other.cert),
    readOpensslCert(third.cert),
  ];
  report.certificates.forEach((entry, i) => {
    const ossl = expected[i];
    if (!ossl) throw new Error('missing openssl reading');
    t.equal(entry.subject, ossl.subject, `subject of #${i}`);
    t.equal(entry.issuer, ossl.issuer, `issuer of #${i}`);
    t.equal(entry.serial, ossl.serial, `serial of #${i}`);
    t.equal(entry.fingerprintSha256, ossl.fingerprint, `fingerprint of #${i}`);
    t.equal(Date.parse(entry.notAfter), ossl.notAfterMs, `notAfter of #${i}`);
    t.equal(Date.parse(entry.notBefore), ossl.notBeforeMs, `notBefore of #${i}`);
    t.match(entry.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'ISO 8601 UTC, whole seconds');
    const low = Math.floor((ossl.notAfterMs - after) / DAY_MS);
    const high = Math.floor((ossl.notAfterMs - before) / DAY_MS);
    t.ok(entry.daysLeft >= low && entry.daysLeft <= high, `days left of #${i}: ${entry.daysLeft} in [${low}, ${high}]`);
  });
  t.equal(report.certificates[0]?.daysLeft, 10, 'the server certificate made to expire in 10.5 days has 10 days left');
  t.equal(report.certificates[0]?.serial, 'DEADBEEF0102', 'the sign byte is dropped as openssl does');
  t.same(report.policy, ['default (from --allow-* flags): cn=orders']);
});
