// End to end: the built sidecar in front of the example Grape API. Identity reaches Rack only from verified
// certificates, forged identity headers in either spelling never reach Rack's env, and Grape's own rules decide.
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir, type CertFiles } from '../helpers/pki.js';
import { findGrapeMissing, startGrape } from './lib/grape-server.js';
import { pickFreePort } from './lib/net-wait.js';
import { sidecarMissing, startSidecar } from './lib/sidecar-process.js';
import { httpsGet, type Caller } from './lib/tls-client.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const BILLING = 'spiffe://example.org/ns/prod/sa/billing';

const skip = sidecarMissing() || (findGrapeMissing() ?? false);

/** The subject exactly as `openssl x509 -nameopt RFC2253` prints it: an independent source for the header. */
function opensslSubject(cert: CertFiles): string {
  return openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', cert.cert])
    .trim()
    .replace(/^subject=/, '');
}

function opensslFingerprint(cert: CertFiles): string {
  const out = openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', cert.cert]).trim();
  return out.replace(/^.*=/, '').replace(/:/g, '').toLowerCase();
}

t.test('sidecar in front of the Grape API', { skip }, async (t) => {
  const dir = makeTmpDir('grape-e2e-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'e2e-ca');
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const orders = makeLeaf(dir, 'orders', ca, { subject: '/O=Example Org/CN=orders', san: [`URI:${ORDERS}`] });
  const billing = makeLeaf(dir, 'billing', ca, { subject: '/O=Example Org/CN=billing', san: [`URI:${BILLING}`] });
  const anonymous = makeLeaf(dir, 'intruder', ca, { subject: '/O=Example Org/CN=intruder' });

  const grape = await startGrape(await pickFreePort());
  t.teardown(grape.stop);

  const port = await pickFreePort();
  const as = (client: CertFiles): Caller => ({ ca, client, port });
  const sidecar = await startSidecar(
    [
      'run',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${grape.port}`,
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--client-ca',
      ca.cert,
      // The sidecar admits every verified caller, so any 403 below is Grape's own decision.
      '--allow-any-verified',
      '--metrics-listen',
      'off',
      '--shutdown-grace',
      '1s',
      // CI runs as root; posture is not what this test is about.
      '--allow-insecure-posture',
    ],
    {},
    dir,
    as(orders),
  );
  t.teardown(sidecar.stop);

  const ordersSubject = opensslSubject(orders);
  t.equal(ordersSubject, 'CN=orders,O=Example Org', 'openssl agrees on the subject we asked for');

  t.test('an allowed caller reaches /orders and gets its identity back', async (t) => {
    const r = await httpsGet(as(orders), '/orders');
    t.equal(r.status, 200, JSON.stringify(r.body));
    t.match(r.body, {
      identity: { uri: ORDERS, subject: ordersSubject, cn: 'orders', fingerprint_sha256: opensslFingerprint(orders) },
      client_env: { HTTP_X_CLIENT_URI: ORDERS, HTTP_X_CLIENT_SUBJECT: ordersSubject },
    });
  });

  for (const name of ['X-Client-Subject', 'X_Client_Subject', 'x-client-subject', 'X_CLIENT_SUBJECT']) {
    t.test(`a forged ${name} header never reaches Rack`, async (t) => {
      const r = await httpsGet(as(orders), '/whoami', { [name]: 'CN=admin,O=Example Org' });
      t.equal(r.status, 200);
      const env = r.body.client_env as Record<string, string>;
      t.equal(env.HTTP_X_CLIENT_SUBJECT, ordersSubject, 'exactly the verified subject, nothing appended');
      t.notMatch(JSON.stringify(r.body), /CN=admin/);
    });
  }

  // A caller without a URI SAN: if the sidecar let an underscore spelling through, it would be the only
  // X-Client-URI Rack sees, whatever puma does with duplicate spellings.
  for (const name of ['X-Client-URI', 'X_Client_URI']) {
    t.test(`a caller without a URI SAN cannot claim one with ${name}`, async (t) => {
      const who = await httpsGet(as(anonymous), '/whoami', { [name]: ORDERS });
      t.equal(who.status, 200);
      const env = who.body.client_env as Record<string, string>;
      t.ok(
        env.HTTP_X_CLIENT_URI === undefined || env.HTTP_X_CLIENT_URI === '',
        `no URI reached Rack (got ${String(env.HTTP_X_CLIENT_URI)})`,
      );
      t.equal(env.HTTP_X_CLIENT_SUBJECT, opensslSubject(anonymous));
      t.same(await httpsGet(as(anonymous), '/orders', { [name]: ORDERS }), {
        status: 403,
        body: { error: 'forbidden' },
      });
    });
  }

  t.test("a verified caller the Grape before block rejects gets Grape's 403", async (t) => {
    t.same(
      await httpsGet(as(billing), '/orders'),
      { status: 403, body: { error: 'forbidden' } },
      "Grape's body, not the sidecar's",
    );
    t.same(await httpsGet(as(billing), '/orders', { 'X-Client-URI': ORDERS, X_Client_URI: ORDERS }), {
      status: 403,
      body: { error: 'forbidden' },
    });
    const who = await httpsGet(as(billing), '/whoami');
    t.match(who.body, { identity: { uri: BILLING } }, 'the same caller is known, just not allowed on /orders');
  });
});
