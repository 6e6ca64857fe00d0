// Names are decoded strictly: a leading U+FEFF is a character of the name (never dropped as a byte-order mark), so
// `CN=\uFEFFadmin` is not `admin` to a rule nor to the upstream; bytes invalid in their encoding are kept as #hex DER.
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { compileAllowRules } from '../../src/authz/allow-rules.js';
import { computeIdentity } from '../../src/identity/identity.js';
import {
  baseConfig,
  httpsRequest,
  rawHeaderValues,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import {
  makeCa,
  makeLeaf,
  makeLeafWithRawSubject,
  makeTmpDir,
  openssl,
  removeDir,
  type CertFiles,
} from '../helpers/pki.js';

const dir = makeTmpDir('mtls-bom-');
t.teardown(() => removeDir(dir));
const ca = makeCa(dir, 'ca', { subject: '/CN=Names CA' });
const server = makeLeaf(dir, 'server', ca, {
  subject: '/CN=localhost',
  san: ['DNS:localhost', 'IP:127.0.0.1'],
  eku: 'serverAuth',
});
const bomCn = `/CN=${Buffer.from([0xef, 0xbb, 0xbf]).toString('latin1')}admin`;
const certs: [string, CertFiles][] = [
  [
    'UTF8String',
    makeLeafWithRawSubject(dir, 'bom-utf8', ca, {
      subject: Buffer.from(bomCn, 'latin1').toString('utf8'),
      stringMask: 'utf8only',
    }),
  ],
  [
    'BMPString',
    makeLeafWithRawSubject(dir, 'bom-bmp', ca, {
      subject: Buffer.from(bomCn, 'latin1').toString('utf8'),
      stringMask: 'default',
    }),
  ],
];
const pki: TestPki = { dir, ca, server, client: certs[0]![1], cleanup: () => undefined };
const noAllow = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };

for (const [encoding, cert] of certs) {
  t.test(`a BOM-prefixed CN as ${encoding}`, async (t) => {
    t.match(
      openssl(['asn1parse', '-in', cert.cert]),
      encoding === 'BMPString' ? /BMPSTRING/ : /UTF8STRING\s*:\uFEFFadmin/,
      `openssl wrote a ${encoding}`,
    );
    const id = computeIdentity(new X509Certificate(cert.certPem));
    t.same(id.commonNames, ['\uFEFFadmin'], 'the U+FEFF is kept');
    const opensslSubject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', cert.cert])
      .trim()
      .replace(/^subject=/, '');
    t.equal(opensslSubject, 'CN=\\EF\\BB\\BFadmin', 'openssl shows the BOM bytes');
    t.equal(id.subject, opensslSubject, 'the subject is what openssl shows');
    t.equal(compileAllowRules([{ cn: 'admin' }], 'test').matcher(id), null, 'cn admin does not match');

    const upstream = await startRecordingUpstream();
    const deny = await startTestProxy(baseConfig(pki, upstream.url, { allow: { ...noAllow, cn: ['admin'] } }));
    const allow = await startTestProxy(
      baseConfig(pki, upstream.url, { allow: { ...noAllow, subject: ['CN=\\EF\\BB\\BFadmin'] } }),
    );
    t.teardown(async () => {
      await deny.close(0);
      await allow.close(0);
      await upstream.close();
    });
    const refused = await httpsRequest({ port: deny.port, ca: ca.certPem, cert: cert.certPem, key: cert.keyPem });
    t.equal(refused.status, 403, '--allow-cn admin refuses it over real TLS');
    t.equal(upstream.received.length, 0, 'the upstream received nothing');
    const admitted = await httpsRequest({ port: allow.port, ca: ca.certPem, cert: cert.certPem, key: cert.keyPem });
    t.equal(admitted.status, 200, 'a subject rule naming the BOM admits it');
    const seen = upstream.received.at(-1);
    t.same(seen && rawHeaderValues(seen, 'x-client-cn'), ['\\EF\\BB\\BFadmin'], 'X-Client-CN keeps the BOM, escaped');
    t.same(seen && rawHeaderValues(seen, 'x-client-subject'), [opensslSubject], 'X-Client-Subject as openssl shows it');
  });
}

t.test('invalid UTF-8 in a UTF8String is kept byte for byte as #hex DER, never repaired to U+FFFD', async (t) => {
  const placeholder = makeLeaf(dir, 'p', ca, { subject: '/CN=QQQQ' });
  const der = Buffer.from(new X509Certificate(placeholder.certPem).raw);
  const at = der.lastIndexOf(Buffer.from('QQQQ'));
  Buffer.from([0xc3, 0x28, 0x61, 0x62]).copy(der, at);
  const { computeIdentityFromDer } = await import('../../src/identity/identity.js');
  const id = computeIdentityFromDer(der);
  t.equal(id.subject, 'CN=#0C04C3286162', 'the attribute is written as its DER (RFC 4514 section 2.4)');
  t.same(id.commonNames, [], 'and is no CN a rule could match');
  t.equal(id.cnEscaped, '');
});
