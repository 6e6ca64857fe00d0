// CRL parsing agrees with `openssl crl -text` (serials, dates), ties each CRL to the CA whose key signed it
// (EC, RSA with SHA-256/512, RSASSA-PSS) and refuses a CRL signed by no loaded CA, tampered or garbled.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { normalizeSerial, parseCrlPem } from '../../src/state/crl.js';
import { loadTlsMaterial, MaterialError } from '../../src/state/material.js';
import { makeCa, makeCrl, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { makeCustomCrl, makeRsaCa, opensslCrlSerials, opensslLastUpdate, opensslNextUpdate } from './lib/crl-tools.js';

const dir = makeTmpDir('mtls-crl-');
t.teardown(() => removeDir(dir));
const ecCa = makeCa(dir, 'EC Root');
const rsaCa = makeRsaCa(dir, 'RSA Root');
const otherCa = makeCa(dir, 'Other Root');
const cas = [ecCa, rsaCa, otherCa].map((c) => new X509Certificate(c.certPem));

t.test('serials and dates match openssl', async (t) => {
  const a = makeLeaf(dir, 'a', ecCa);
  const b = makeLeaf(dir, 'b', ecCa, { serial: '00FF' });
  const file = makeCrl(dir, ecCa, [a, b], { nextUpdateHours: 5 });
  const [crl] = parseCrlPem(readFileSync(file, 'utf8'), cas);
  t.ok(crl);
  t.same([...(crl?.revokedSerials ?? [])].sort(), opensslCrlSerials(file).map(normalizeSerial).sort());
  t.ok(crl?.revokedSerials.has('FF'), 'the DER sign byte is not part of the serial');
  t.equal(crl?.nextUpdate?.getTime(), opensslNextUpdate(file).getTime());
  t.equal(crl?.thisUpdate.getTime(), opensslLastUpdate(file).getTime());
  t.equal(crl?.issuer.fingerprint256, cas[0]?.fingerprint256, 'tied to the EC root');
  t.equal(crl?.issuerName, 'CN=EC Root');
});

t.test('RSA signatures: SHA-256, SHA-512, RSASSA-PSS', async (t) => {
  const variants: Array<[string, string[]]> = [
    ['sha256', ['-md', 'sha256']],
    ['sha512', ['-md', 'sha512']],
    ['pss', ['-md', 'sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']],
  ];
  for (const [name, extra] of variants) {
    const file = makeCustomCrl(dir, rsaCa, ['0ABC', 'DEADBEEF'], extra);
    const [crl] = parseCrlPem(readFileSync(file, 'utf8'), cas);
    t.equal(crl?.issuer.fingerprint256, cas[1]?.fingerprint256, `${name}: tied to the RSA root`);
    t.same([...(crl?.revokedSerials ?? [])].sort(), ['0ABC', 'DEADBEEF'], `${name}: serials`);
  }
  const sha1 = makeCustomCrl(dir, rsaCa, [], ['-md', 'sha1']);
  t.throws(() => parseCrlPem(readFileSync(sha1, 'utf8'), cas), /SHA-1/);
});

t.test('an empty CRL revokes nothing; two CRLs in one file both load', async (t) => {
  const empty = makeCrl(dir, ecCa, []);
  const other = makeCrl(dir, otherCa, [makeLeaf(dir, 'o', otherCa)]);
  const both = join(dir, 'both.pem');
  writeFileSync(both, readFileSync(empty, 'utf8') + readFileSync(other, 'utf8'));
  const crls = parseCrlPem(readFileSync(both, 'utf8'), cas);
  t.equal(crls.length, 2);
  t.equal(crls[0]?.revokedSerials.size, 0);
  t.equal(crls[1]?.issuer.fingerprint256, cas[2]?.fingerprint256);
});

t.test('a CRL signed by no loaded CA is refused, naming the file', async (t) => {
  const stranger = makeCa(dir, 'Stranger CA');
  const file = makeCrl(dir, stranger, []);
  t.throws(() => parseCrlPem(readFileSync(file, 'utf8'), cas), /issuer "CN=Stranger CA"\) is signed by no --client-ca/);
  // Same name as a loaded CA, different key: the signature decides, not the name.
  const impostor = makeCa(join(dir), 'impostor', { subject: '/CN=EC Root' });
  const forged = makeCrl(dir, impostor, []);
  t.throws(() => parseCrlPem(readFileSync(forged, 'utf8'), cas), /signed by no --client-ca/);

  const server = makeLeaf(dir, 'server', ecCa, { eku: 'serverAuth' });
  try {
    loadTlsMaterial({ cert: server.cert, key: server.key, clientCa: [ecCa.cert], crl: [file] });
    t.fail('expected a MaterialError');
  } catch (err) {
    t.ok(err instanceof MaterialError);
    t.match(
      (err as MaterialError).problems.join('\n'),
      new RegExp(`--crl ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: CRL #1`),
    );
  }
});

t.test('tampered, garbled and non-CRL input is refused', async (t) => {
  const file = makeCrl(dir, ecCa, [makeLeaf(dir, 'c', ecCa)]);
  const pem = readFileSync(file, 'utf8');
  const body = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  // Flip one byte inside the revoked serial (within tbsCertList): the signature no longer verifies.
  const idx = body.length - 120;
  body[idx] = (body[idx] as number) ^ 0x01;
  const tampered = `-----BEGIN X509 CRL-----\n${body.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
  t.throws(() => parseCrlPem(tampered, cas), /CRL #1/);
  t.throws(
    () => parseCrlPem('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', cas),
    /does not parse as a CRL/,
  );
  t.throws(() => parseCrlPem(ecCa.certPem, cas), /no PEM "X509 CRL" block/);
  t.throws(() => parseCrlPem(pem.slice(0, pem.length / 2), cas), /no PEM "X509 CRL" block/, 'half-written file');
});

t.test('mutated CRLs are refused with a message, never a crash or a wrong issuer', async (t) => {
  const file = makeCrl(dir, ecCa, [makeLeaf(dir, 'm', ecCa)]);
  const der = Buffer.from(
    readFileSync(file, 'utf8')
      .replace(/-----[^-]+-----/g, '')
      .replace(/\s+/g, ''),
    'base64',
  );
  let refused = 0;
  for (let i = 0; i < 400; i++) {
    const copy = Buffer.from(der);
    const at = (i * 7919) % copy.length;
    copy[at] = (copy[at] as number) ^ (1 + (i % 255));
    const pem = `-----BEGIN X509 CRL-----\n${copy.toString('base64')}\n-----END X509 CRL-----\n`;
    try {
      const [crl] = parseCrlPem(pem, cas);
      // Only a change outside the signed bytes and the signature value could survive (none exist but padding).
      t.equal(crl?.issuer.fingerprint256, cas[0]?.fingerprint256);
    } catch (err) {
      refused += 1;
      if (!(err instanceof Error) || !/^CRL #1 /.test(err.message))
        t.fail(`unexpected error at byte ${at}: ${String(err)}`);
    }
  }
  t.ok(refused > 390, `${refused} of 400 mutations refused`);
});

t.test('delta CRLs and unknown critical extensions are refused rather than half-applied', async (t) => {
  const delta = makeCustomCrl(
    dir,
    ecCa,
    ['01'],
    [],
    'authorityKeyIdentifier = keyid:always\n2.5.29.27 = critical,DER:02:01:01',
  );
  t.throws(() => parseCrlPem(readFileSync(delta, 'utf8'), cas), /delta CRL/);
  const unknown = makeCustomCrl(dir, ecCa, ['01'], [], '1.2.3.4 = critical,DER:05:00');
  t.throws(() => parseCrlPem(readFileSync(unknown, 'utf8'), cas), /unknown critical CRL extension \(1\.2\.3\.4\)/);
  const harmless = makeCustomCrl(dir, ecCa, ['01'], [], '1.2.3.4 = DER:05:00');
  t.equal(
    parseCrlPem(readFileSync(harmless, 'utf8'), cas)[0]?.revokedSerials.has('01'),
    true,
    'a non-critical unknown extension is fine',
  );
});
