// SANs come from the DER extension, so a value with ", DNS:" inside cannot smuggle in a second name (CVE-2021-44532).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

t.test('SPIFFE URI, DNS, email and IP SANs match what openssl shows', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const leaf = makeLeaf(dir, 'orders', root, {
    san: [
      'URI:spiffe://example.org/ns/prod/sa/orders',
      'DNS:orders.example',
      'DNS:*.orders.example',
      'email:orders@example.org',
      'IP:127.0.0.1',
      'IP:2001:db8::abcd:1',
      'IP:::1',
    ],
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  t.same(id.uris, ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(id.dns, ['orders.example', '*.orders.example']);
  t.same(id.emails, ['orders@example.org']);
  t.same(id.ips, ['127.0.0.1', '2001:DB8:0:0:0:0:ABCD:1', '0:0:0:0:0:0:0:1']);

  // openssl's text form lists the same entries in order; splitting it is safe here because no value has ', '.
  const text = openssl(['x509', '-in', leaf.cert, '-noout', '-ext', 'subjectAltName']).split('\n')[1]?.trim() ?? '';
  const ours = [
    `URI:${id.uris[0]}`,
    ...id.dns.map((d) => `DNS:${d}`),
    ...id.emails.map((e) => `email:${e}`),
    ...id.ips.map((ip) => `IP Address:${ip}`),
  ];
  t.equal(ours.join(', '), text);
});

t.test('a URI SAN carrying ", DNS:" stays one URI and adds no DNS name', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const leaf = makeLeaf(dir, 'sneaky', root, {
    san: ['URI:spiffe://example.org/a, DNS:admin.example, URI:spiffe://example.org/ns/ops/sa/console'],
  });
  t.match(
    openssl(['x509', '-in', leaf.cert, '-noout', '-text']),
    /URI:spiffe:\/\/example\.org\/a, DNS:admin\.example, URI:spiffe/,
  );
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  t.same(
    id.ignoredUris,
    ['spiffe://example.org/a, DNS:admin.example, URI:spiffe://example.org/ns/ops/sa/console'],
    'read as one URI',
  );
  t.same(id.uris, [], 'which, not being a valid SPIFFE ID, stands for no one');
  t.same(id.dns, []);
});

t.test('no SAN extension gives empty lists', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const id = computeIdentity(new X509Certificate(makeLeaf(dir, 'plain', root).certPem));
  t.same([id.dns, id.uris, id.emails, id.ips], [[], [], [], []]);
});
