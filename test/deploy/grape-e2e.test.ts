// End to end: the built sidecar in front of the example Grape API. Identity reaches Rack only from verified
// certificates, forged identity headers in either spelling never reach Rack's env, and Grape's own rules decide.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir, type CertFiles } from '../helpers/pki.js';
import { findGrapeMissing, startGrape, type JsonReply } from './lib/grape-server.js';
import { captureOutput, pickFreePort, stopChild, waitUntil } from './lib/net-wait.js';
import { REPO_ROOT } from './lib/paths.js';

const MAIN = join(REPO_ROOT, 'dist/main.js');
const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const BILLING = 'spiffe://example.org/ns/prod/sa/billing';

const skip = !existsSync(MAIN)
  ? 'dist/main.js is not built yet (npm run build)'
  : findGrapeMissing() ?? false;

/** The subject exactly as `openssl x509 -nameopt RFC2253` prints it: an independent source for the header. */
function opensslSubject(cert: CertFiles): string {
  return openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', cert.cert]).trim().replace(/^subject=/, '');
}

function opensslFingerprint(cert: CertFiles): string {
  const out = openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', cert.cert]).trim();
  return out.replace(/^.*=/, '').replace(/:/g, '').toLowerCase();
}

interface Caller {
  ca: CertFiles;
  client: CertFiles;
  port: number;
}

function httpsGet(c: Caller, path: string, headers: Record<string, string> = {}): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: c.port, servername: 'localhost', path, method: 'GET', headers, agent: false,
      ca: c.ca.certPem, cert: c.client.certPem, key: c.client.keyPem,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { raw: text } });
        }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** True once the listener completes a TLS handshake with a client certificate. */
function handshakes(c: Caller): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: c.port, servername: 'localhost', ca: c.ca.certPem, cert: c.client.certPem, key: c.client.keyPem });
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
    socket.once('secureConnect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

t.test('sidecar in front of the Grape API', { skip }, async (t) => {
  const dir = makeTmpDir('grape-e2e-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'e2e-ca');
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], eku: 'serverAuth' });
  const orders = makeLeaf(dir, 'orders', ca, { subject: '/O=Example Org/CN=orders', san: [`URI:${ORDERS}`] });
  const billing = makeLeaf(dir, 'billing', ca, { subject: '/O=Example Org/CN=billing', san: [`URI:${BILLING}`] });
  const anonymous = makeLeaf(dir, 'intruder', ca, { subject: '/O=Example Org/CN=intruder' });

  const grape = await startGrape(await pickFreePort());
  t.teardown(grape.stop);

  const port = await pickFreePort();
  // Only our flags: an MTLS_SIDECAR_* variable in the test runner's environment must not change the setup.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  const sidecar = spawn(process.execPath, [
    MAIN, 'run', '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${grape.port}`,
    '--cert', server.cert, '--key', server.key, '--client-ca', ca.cert,
    // The sidecar admits every verified caller, so any 403 below is Grape's own decision.
    '--allow-any-verified', '--metrics-listen', 'off', '--shutdown-grace', '1s',
    // CI runs as root; posture is not what this test is about.
    '--allow-insecure-posture',
  ], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(sidecar);
  t.teardown(() => stopChild(sidecar));
  const as = (client: CertFiles): Caller => ({ ca, client, port });
  await waitUntil(() => handshakes(as(orders)), { timeoutMs: 20_000, child: sidecar, describe: output });

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
      t.ok(env.HTTP_X_CLIENT_URI === undefined || env.HTTP_X_CLIENT_URI === '', `no URI reached Rack (got ${String(env.HTTP_X_CLIENT_URI)})`);
      t.equal(env.HTTP_X_CLIENT_SUBJECT, opensslSubject(anonymous));
      t.same(await httpsGet(as(anonymous), '/orders', { [name]: ORDERS }), { status: 403, body: { error: 'forbidden' } });
    });
  }

  t.test('a verified caller the Grape before block rejects gets Grape\'s 403', async (t) => {
    t.same(await httpsGet(as(billing), '/orders'), { status: 403, body: { error: 'forbidden' } }, 'Grape\'s body, not the sidecar\'s');
    t.same(await httpsGet(as(billing), '/orders', { 'X-Client-URI': ORDERS, X_Client_URI: ORDERS }), { status: 403, body: { error: 'forbidden' } });
    const who = await httpsGet(as(billing), '/whoami');
    t.match(who.body, { identity: { uri: BILLING } }, 'the same caller is known, just not allowed on /orders');
  });
});
