// Serial, SHA-256 fingerprint, validity dates and extended key usage agree with the openssl CLI.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeIdentity } from '../../src/identity/identity.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

function opensslField(certPath: string, ...flags: string[]): string {
  const line = openssl(['x509', '-in', certPath, '-noout', ...flags]).trim();
  return line.slice(line.indexOf('=') + 1);
}

t.test('serial matches openssl -serial, including a sign byte, a long serial, negatives and zero', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const viaCa = [
    { serial: '00DEADBEEF', expected: 'DEADBEEF' },
    { serial: '7F', expected: '7F' },
    { serial: '0123456789ABCDEF0123456789ABCDEF01234567', expected: '0123456789ABCDEF0123456789ABCDEF01234567' },
  ];
  for (const [i, c] of viaCa.entries()) {
    const leaf = makeLeaf(dir, `s${i}`, root, { serial: c.serial });
    const id = computeIdentity(new X509Certificate(leaf.certPem));
    t.equal(id.serial, opensslField(leaf.cert, '-serial'), `serial ${c.serial} as openssl prints it`);
    t.equal(id.serial, c.expected);
  }
  // `openssl ca` only issues positive serials; req -x509 -set_serial takes negative and zero ones.
  const key = join(dir, 'k.key');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
  const conf = join(dir, 'req.cnf');
  writeFileSync(conf, '[ req ]\ndistinguished_name = dn\n[ dn ]\n');
  for (const [setSerial, expected] of [
    ['-0x80', '-80'],
    ['-0x0102', '-0102'],
    ['0', '00'],
    ['0x80', '80'],
  ] as const) {
    const cert = join(dir, `n${setSerial}.crt`);
    openssl([
      'req',
      '-x509',
      '-new',
      '-config',
      conf,
      '-key',
      key,
      '-subj',
      '/CN=n',
      '-set_serial',
      setSerial,
      '-days',
      '1',
      '-out',
      cert,
    ]);
    const id = computeIdentity(new X509Certificate(openssl(['x509', '-in', cert])));
    t.equal(id.serial, opensslField(cert, '-serial'), `serial ${setSerial} as openssl prints it`);
    t.equal(id.serial, expected);
  }
});

t.test('fingerprint, validity and EKU agree with openssl', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const leaf = makeLeaf(dir, 'dated', root, {
    notBefore: '20250102030405Z',
    notAfter: '20491231235959Z',
    eku: 'serverAuth,clientAuth,1.2.3.4.5',
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  t.equal(id.fingerprint256, opensslField(leaf.cert, '-fingerprint', '-sha256').replace(/:/g, '').toLowerCase());
  t.match(id.fingerprint256, /^[0-9a-f]{64}$/);
  t.equal(id.notBefore.getTime(), Date.parse(opensslField(leaf.cert, '-startdate')));
  t.equal(id.notAfter.getTime(), Date.parse(opensslField(leaf.cert, '-enddate')));
  t.equal(id.notBefore.toISOString(), '2025-01-02T03:04:05.000Z');
  t.equal(id.notAfter.toISOString(), '2049-12-31T23:59:59.000Z');
  t.match(
    openssl(['x509', '-in', leaf.cert, '-noout', '-ext', 'extendedKeyUsage']),
    /TLS Web Server Authentication, TLS Web Client Authentication, 1\.2\.3\.4\.5/,
  );
  t.same(id.extKeyUsage, ['serverAuth', 'clientAuth', '1.2.3.4.5']);
  t.equal(id.der.toString('base64'), openssl(['x509', '-in', leaf.cert]).replace(/-----[A-Z ]+-----|\s/g, ''));

  // GeneralizedTime (2050 and later) is read as well as UTCTime.
  const late = makeLeaf(dir, 'late', root, { notAfter: '20510601120000Z', eku: 'none' });
  const lateId = computeIdentity(new X509Certificate(late.certPem));
  t.equal(lateId.notAfter.toISOString(), '2051-06-01T12:00:00.000Z');
  t.equal(lateId.notAfter.getTime(), Date.parse(opensslField(late.cert, '-enddate')));
  t.same(lateId.extKeyUsage, []);
});
