// For a certificate made by the openssl CLI, the identity headers carry exactly what openssl reports.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import { buildIdentityHeaders } from '../../src/http/identity-headers.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

t.test('serial, fingerprint, Not-After, SANs and RFC 9440 Client-Cert match openssl', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const uris = ['spiffe://example.org/ns/prod/sa/orders', 'urn:a,b'];
  const leaf = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme/CN=orders',
    serial: '00C0FFEE01',
    notAfter: '20300102030405Z',
    san: [...uris.map((u) => `URI:${u}`), 'DNS:orders.example', 'DNS:www.orders.example'],
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  const h = Object.fromEntries(buildIdentityHeaders(id, { forwardCert: true }));

  const derBase64 = execFileSync('sh', ['-c', 'openssl x509 -in "$1" -outform DER | base64 -w0', 'sh', leaf.cert], {
    encoding: 'utf8',
  });
  t.equal(h['client-cert'], `:${derBase64.trim()}:`, 'RFC 9440 Client-Cert is :base64(DER):');
  t.equal(
    h['x-client-serial'],
    openssl(['x509', '-in', leaf.cert, '-noout', '-serial'])
      .trim()
      .replace(/^serial=/, ''),
  );
  const fp = openssl(['x509', '-in', leaf.cert, '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '');
  t.equal(h['x-client-fingerprint-sha256'], fp.replaceAll(':', '').toLowerCase());
  t.equal(h['x-client-not-after'], '2030-01-02T03:04:05Z');
  t.equal(h['x-client-uri'], 'spiffe://example.org/ns/prod/sa/orders,urn:a\\2Cb');
  t.equal(h['x-client-dns'], 'orders.example,www.orders.example');
  t.equal(h['x-client-cn'], 'orders');
  t.equal(h['x-client-subject'], 'CN=orders,O=Acme');

  const without = Object.fromEntries(buildIdentityHeaders(id, { forwardCert: false }));
  t.equal(without['client-cert'], undefined, 'no Client-Cert without --forward-cert');
  t.notMatch(without['x-forwarded-client-cert'] ?? '', /Cert=/);
});
