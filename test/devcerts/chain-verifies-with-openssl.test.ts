// certs init output verifies with the openssl CLI: chains, purposes (EKU), SANs, CA constraints and serials.
import t from 'tap';
import { join } from 'node:path';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { runCertsInit } from './run-certs-init.js';

const dir = makeTmpDir('devcerts-chain-');
t.teardown(() => removeDir(dir));

const summary = await runCertsInit(dir, {
  hosts: ['localhost', '127.0.0.1', '[::1]', 'api.internal'],
  clients: ['orders', 'billing'],
  uris: ['orders=spiffe://example.org/ns/prod/sa/orders'],
});
const f = (name: string): string => join(dir, name);

t.test('summary names the files and never prints key material', async (t) => {
  for (const name of [
    'ca.crt',
    'ca.key',
    'server.crt',
    'server.key',
    'orders.crt',
    'orders.key',
    'billing.crt',
    'billing.key',
  ]) {
    t.match(summary, name);
  }
  t.notMatch(summary, /BEGIN|PRIVATE KEY/);
});

t.test('leaves verify against the CA for their purpose', async (t) => {
  t.match(openssl(['verify', '-CAfile', f('ca.crt'), '-purpose', 'sslserver', f('server.crt')]), /server\.crt: OK/);
  for (const c of ['orders', 'billing']) {
    t.match(
      openssl(['verify', '-CAfile', f('ca.crt'), '-purpose', 'sslclient', f(`${c}.crt`)]),
      new RegExp(`${c}\\.crt: OK`),
    );
  }
});

t.test('server certificate: serverAuth only, DNS and IP SANs, key usage', async (t) => {
  const out = openssl([
    'x509',
    '-in',
    f('server.crt'),
    '-noout',
    '-ext',
    'extendedKeyUsage,subjectAltName,keyUsage,basicConstraints',
  ]);
  t.match(out, /TLS Web Server Authentication/);
  t.notMatch(out, /TLS Web Client Authentication/);
  t.match(out, /DNS:localhost/);
  t.match(out, /IP Address:127\.0\.0\.1/);
  t.match(out, /IP Address:0:0:0:0:0:0:0:1/);
  t.match(out, /DNS:api\.internal/);
  t.match(out, /Digital Signature, Key Encipherment/);
  t.match(out, /CA:FALSE/);
  // A client-purpose check must fail: the server certificate is not usable as a client certificate.
  t.throws(() => openssl(['verify', '-CAfile', f('ca.crt'), '-purpose', 'sslclient', f('server.crt')]));
});

t.test('client certificates: clientAuth, CN = name, URI SAN only where given', async (t) => {
  const orders = openssl([
    'x509',
    '-in',
    f('orders.crt'),
    '-noout',
    '-ext',
    'extendedKeyUsage,subjectAltName',
    '-subject',
    '-nameopt',
    'RFC2253',
  ]);
  t.match(orders, /TLS Web Client Authentication/);
  t.notMatch(orders, /TLS Web Server Authentication/);
  t.match(orders, /URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/orders/);
  t.match(orders, /subject=CN=orders,O=mtls-sidecar development/);
  const billing = openssl(['x509', '-in', f('billing.crt'), '-noout', '-ext', 'extendedKeyUsage,subjectAltName']);
  t.match(billing, /TLS Web Client Authentication/);
  t.notMatch(billing, /Subject Alternative Name/);
});

t.test("CA: critical CA:TRUE, keyCertSign+cRLSign, SKI matches the leaves' AKI, 10 years", async (t) => {
  const ca = openssl([
    'x509',
    '-in',
    f('ca.crt'),
    '-noout',
    '-ext',
    'basicConstraints,keyUsage,subjectKeyIdentifier',
    '-enddate',
    '-startdate',
  ]);
  t.match(ca, /Basic Constraints: critical\s+CA:TRUE/);
  t.match(ca, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(ca)?.[1];
  t.ok(ski);
  const aki = openssl(['x509', '-in', f('server.crt'), '-noout', '-ext', 'authorityKeyIdentifier']);
  t.match(aki, ski ?? 'missing');
  const start = Date.parse(/notBefore=(.*)/.exec(ca)?.[1] ?? '');
  const end = Date.parse(/notAfter=(.*)/.exec(ca)?.[1] ?? '');
  const years = (end - start) / (365.25 * 24 * 3600 * 1000);
  t.ok(years > 9.9 && years < 10.1, `CA lifetime ${years} years`);
  t.ok(start < Date.now() - 60_000, 'notBefore is backdated to absorb clock skew');
});

t.test('leaf lifetime is about one year; serials are 16-byte positive and distinct', async (t) => {
  const dates = openssl(['x509', '-in', f('orders.crt'), '-noout', '-startdate', '-enddate']);
  const days =
    (Date.parse(/notAfter=(.*)/.exec(dates)?.[1] ?? '') - Date.parse(/notBefore=(.*)/.exec(dates)?.[1] ?? '')) /
    86_400_000;
  t.ok(days > 364 && days < 367, `leaf lifetime ${days} days`);
  const serials = ['ca.crt', 'server.crt', 'orders.crt', 'billing.crt'].map((n) =>
    openssl(['x509', '-in', f(n), '-noout', '-serial'])
      .trim()
      .replace('serial=', ''),
  );
  for (const s of serials) {
    t.match(s, /^[0-7][0-9A-F]{31}$/, `serial ${s}: 16 bytes, high bit clear`);
    t.not(s.slice(0, 2), '00', 'no padding byte');
  }
  t.equal(new Set(serials).size, serials.length);
});

t.test('keys are RSA 2048', async (t) => {
  t.match(openssl(['pkey', '-in', f('server.key'), '-noout', '-text']), /Private-Key: \(2048 bit/);
});
