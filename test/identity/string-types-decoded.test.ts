// Name values in T61String, BMPString, UniversalString, IA5String and PrintableString decode like openssl's
// (VisibleString is decoded too, but OpenSSL refuses certificates that use it in a name, so none reach us).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import forge from 'node-forge';
import { join } from 'node:path';
import { computeIdentity } from '../../src/identity/identity.js';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

/** Self-signed certificate whose name strings openssl encodes under `mask` (see `string_mask` in req(1)). */
function makeCertWithMask(dir: string, label: string, mask: string, subject: string): string {
  const conf = join(dir, `${label}.cnf`);
  writeFileSync(conf, `[ req ]\ndistinguished_name = dn\nstring_mask = ${mask}\n[ dn ]\n`);
  const key = join(dir, `${label}.key`);
  const cert = join(dir, `${label}.crt`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
  openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    conf,
    '-key',
    key,
    '-utf8',
    '-subj',
    subject,
    '-days',
    '1',
    '-out',
    cert,
  ]);
  return cert;
}

// B_ASN1_PRINTABLESTRING | T61STRING | BMPSTRING | UNIVERSALSTRING: openssl picks the narrowest that fits.
const WIDE_MASK = 'MASK:0x0906';
const IA5_MASK = 'MASK:0x0010';

t.test('each string type decodes to the same text openssl prints', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const cases = [
    {
      label: 'wide',
      mask: WIDE_MASK,
      subject: '/C=FR/L=Zoë/O=日本/CN=plain',
      types: ['PRINTABLESTRING', 'T61STRING', 'BMPSTRING'],
    },
    { label: 'ia5', mask: IA5_MASK, subject: '/CN=ia5 value/DC=example', types: ['IA5STRING'] },
  ];
  for (const c of cases) {
    const cert = makeCertWithMask(dir, c.label, c.mask, c.subject);
    const parsed = openssl(['asn1parse', '-in', cert]);
    for (const type of c.types) t.match(parsed, new RegExp(`prim: ${type}`), `${c.label}: fixture has a ${type}`);

    const id = computeIdentity(new X509Certificate(new Uint8Array(Buffer.from(openssl(['x509', '-in', cert])))));
    const rfc2253 = openssl(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253'])
      .trim()
      .replace(/^subject=/, '');
    t.equal(id.subject, rfc2253, `${c.label}: subject equals openssl RFC2253`);
    t.match(id.subject, /^[\x20-\x7e]*$/);
  }
  const wide = computeIdentity(new X509Certificate(openssl(['x509', '-in', join(dir, 'wide.crt')])));
  t.same(
    wide.subjectRdns.flat().map((a) => a.value),
    ['plain', '日本', 'Zoë', 'FR'],
  );
  t.equal(wide.subject, 'CN=plain,O=\\E6\\97\\A5\\E6\\9C\\AC,L=Zo\\C3\\AB,C=FR');
});

t.test(
  'UniversalString and Latin-1 TeletexString (which openssl req will not write) decode like openssl prints them',
  async (t) => {
    const dir = makeTmpDir();
    t.teardown(() => removeDir(dir));
    // node-forge writes the raw bytes we hand it under the tag we ask for; openssl then decodes them independently.
    const keyPem = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const key = forge.pki.privateKeyFromPem(keyPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 3_600_000);
    const utf32 = Buffer.alloc(12);
    [0x78, 0x1f600, 0x79].forEach((cp, i) => utf32.writeUInt32BE(cp, i * 4));
    const attrs = [
      { shortName: 'CN', value: utf32.toString('binary'), valueTagClass: 28 },
      { shortName: 'OU', value: 'caf\xe9 bar', valueTagClass: 20 },
    ];
    cert.setSubject(attrs as forge.pki.CertificateField[]);
    cert.setIssuer(attrs as forge.pki.CertificateField[]);
    cert.sign(key, forge.md.sha256.create());
    const certPath = join(dir, 'forged.crt');
    writeFileSync(certPath, forge.pki.certificateToPem(cert));

    const parsed = openssl(['asn1parse', '-in', certPath]);
    t.match(parsed, /prim: UNIVERSALSTRING/);
    t.match(parsed, /prim: T61STRING/);
    const id = computeIdentity(new X509Certificate(readFileSync(certPath)));
    const rfc2253 = openssl(['x509', '-in', certPath, '-noout', '-subject', '-nameopt', 'RFC2253'])
      .trim()
      .replace(/^subject=/, '');
    t.equal(id.subject, rfc2253);
    t.equal(id.subject, 'OU=caf\\C3\\A9 bar,CN=x\\F0\\9F\\98\\80y');
    t.same(id.commonNames, ['x😀y']);
    t.same(id.orgUnits, ['café bar']);
  },
);
