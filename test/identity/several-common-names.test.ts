// A subject with several CNs (`CN=mallory,CN=admin`, `CN=mallory+CN=admin`) has no CN: no cn rule admits it and no
// X-Client-CN is sent, so admission and the forwarded CN can never disagree. The subject still carries both.
import t from 'tap';
import {
  baseConfig,
  httpsRequest,
  rawHeaderValues,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import { makeCa, makeLeaf, makeLeafWithRawSubject, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

const dir = makeTmpDir('mtls-cns-');
t.teardown(() => removeDir(dir));
const ca = makeCa(dir, 'ca', { subject: '/CN=Names CA' });
const server = makeLeaf(dir, 'server', ca, {
  subject: '/CN=localhost',
  san: ['DNS:localhost', 'IP:127.0.0.1'],
  eku: 'serverAuth',
});
const single = makeLeaf(dir, 'single', ca, { subject: '/O=Acme/CN=admin' });
const pki: TestPki = { dir, ca, server, client: single, cleanup: () => undefined };
const noAllow = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };

const shapes = [
  { name: 'two RDNs', cert: makeLeafWithRawSubject(dir, 'two-rdns', ca, { subject: '/CN=admin/CN=mallory' }) },
  {
    name: 'one multi-valued RDN',
    cert: makeLeafWithRawSubject(dir, 'multi', ca, { subject: '/CN=mallory+CN=admin', multiValueRdn: true }),
  },
];

for (const { name, cert } of shapes) {
  t.test(`several CNs in ${name}`, async (t) => {
    const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', cert.cert])
      .trim()
      .replace(/^subject=/, '');
    t.match(subject, /CN=mallory.CN=admin|CN=admin.CN=mallory/, `openssl sees both CNs: ${subject}`);
    const upstream = await startRecordingUpstream();
    const byCn = await startTestProxy(
      baseConfig(pki, upstream.url, { allow: { ...noAllow, cn: ['admin', 'mallory'] } }),
    );
    const bySubject = await startTestProxy(
      baseConfig(pki, upstream.url, { allow: { ...noAllow, subject: [subject] } }),
    );
    t.teardown(async () => {
      await byCn.close(0);
      await bySubject.close(0);
      await upstream.close();
    });
    const refused = await httpsRequest({ port: byCn.port, ca: ca.certPem, cert: cert.certPem, key: cert.keyPem });
    t.equal(refused.status, 403, 'neither --allow-cn admin nor --allow-cn mallory admits it');
    t.equal(upstream.received.length, 0, 'the upstream received nothing');
    const control = await httpsRequest({
      port: byCn.port,
      ca: ca.certPem,
      cert: single.certPem,
      key: single.keyPem,
      headers: { 'X-Client-CN': 'forged' },
    });
    t.equal(control.status, 200, 'a single-CN certificate is still admitted by --allow-cn admin');
    t.same(rawHeaderValues(upstream.received.at(-1)!, 'x-client-cn'), ['admin'], 'and its CN is forwarded');

    const admitted = await httpsRequest({
      port: bySubject.port,
      ca: ca.certPem,
      cert: cert.certPem,
      key: cert.keyPem,
      headers: { 'X-Client-CN': 'admin' },
    });
    t.equal(admitted.status, 200, 'an exact subject rule admits it');
    const seen = upstream.received.at(-1)!;
    t.same(rawHeaderValues(seen, 'x-client-cn'), [], 'no X-Client-CN (the forged one is stripped)');
    t.same(rawHeaderValues(seen, 'x-client-subject'), [subject], 'the subject names both, as openssl does');
  });
}
