// XFCC of a real openssl certificate: Hash, Cert and SANs read back by an independent parser match what openssl prints
// (the grammar cases without certificates are in test/unit/http/xfcc-envoy-grammar).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import { formatXfcc } from '../../src/http/xfcc.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { parseXfcc, PRINTABLE } from '../helpers/xfcc-parse.js';

t.test('a real openssl certificate: Hash, Cert (URL-encoded PEM) and SANs match openssl', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const uris = ['spiffe://example.org/ns/prod/sa/orders', 'urn:x;y,z="w"'];
  const dns = ['orders.example', 'x,y;z=w".example'];
  const leaf = makeLeaf(dir, 'hostile', ca, {
    subject: '/CN=a"b;c,d\\\\e/O=Zo\u00eb',
    san: [...uris.map((u) => `URI:${u}`), ...dns.map((d) => `DNS:${d}`)],
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  const xfcc = formatXfcc(id, true);
  t.match(xfcc, PRINTABLE);
  const [element, ...rest] = parseXfcc(xfcc);
  t.equal(rest.length, 0, 'one element');
  const get = (k: string) => (element ?? []).filter(([key]) => key === k).map(([, v]) => v);

  const fp = openssl(['x509', '-in', leaf.cert, '-noout', '-fingerprint', '-sha256']).trim();
  t.same(get('Hash'), [fp.replace(/^.*=/, '').replaceAll(':', '').toLowerCase()]);
  const pem = openssl(['x509', '-in', leaf.cert, '-outform', 'PEM']);
  const [cert] = get('Cert');
  t.equal(decodeURIComponent(cert ?? ''), pem, 'Cert decodes to the PEM openssl writes');
  t.match(xfcc, /;Cert="-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%-]+-----END%20CERTIFICATE-----%0A";/);
  t.same(get('URI'), uris);
  t.same(get('DNS'), dns);
  t.same(get('Subject'), [id.subject]);
  t.match(id.subject, /CN=a\\"b\\;c\\,d\\\\e/, 'the CN really holds the hostile characters');
});
