// An open WebSocket tunnel is judged again after a reload: when the new policy no longer admits its caller, the tunnel
// is closed. A tunnel is also judged when it opens after a reload, and closed once its certificate expires.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { makeLeaf } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWsUpstream } from './lib/ws-upstream.js';

const NO_FLAGS = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };
const policyFor = (chatAllow: string): string =>
  `routes:\n  - path: /chat\n    allow:\n      - uri: ${chatAllow}\ndefault:\n  allow:\n    - uri: spiffe://example.org/ns/prod/*\n`;

t.test('tunnels closed when their caller is no longer admitted', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const policy = join(pki.dir, 'policy.yaml');
  writeFileSync(policy, policyFor('spiffe://example.org/ns/prod/*'));
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const open = (path: string): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://localhost:${proxy.port}${path}`, {
        ca: pki.ca.certPem,
        cert: pki.client.certPem,
        key: pki.client.keyPem,
      });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const chat = await open('/chat');
  const feed = await open('/feed');
  const chatClosed = new Promise<number>((resolve) => chat.once('close', () => resolve(Date.now())));
  let feedClosed = false;
  feed.once('close', () => (feedClosed = true));

  // An unchanged reload leaves both alone.
  t.equal(proxy.reload('manual'), 'unchanged');
  writeFileSync(policy, policyFor('spiffe://example.org/ns/ops/sa/console'));
  const swappedAt = Date.now();
  t.equal(proxy.reload('manual'), 'success');
  let guard: NodeJS.Timeout | undefined;
  const closedAt = await Promise.race([
    chatClosed,
    new Promise<number>((r) => (guard = setTimeout(() => r(-1), 5000))),
  ]);
  clearTimeout(guard);
  t.ok(
    closedAt > 0 && closedAt - swappedAt < 3000,
    `the /chat tunnel closed ${closedAt - swappedAt} ms after the swap`,
  );

  const echo = await new Promise<string>((resolve) => {
    feed.once('message', (d) => resolve(d.toString()));
    feed.send('still here');
  });
  t.equal(echo, 'echo:still here', 'the /feed tunnel, still admitted, keeps working');
  t.notOk(feedClosed);
  feed.close();
});

/** Opens a WebSocket; resolves with the socket, or with the HTTP status of a refused handshake. */
function connect(url: string, tls: { ca: string; cert: string; key: string }): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, tls);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function closedWithin(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(true);
    const guard = setTimeout(() => resolve(false), ms);
    ws.once('close', () => {
      clearTimeout(guard);
      resolve(true);
    });
  });
}

t.test('a reload while the upstream answers the handshake: judged again before the switch, refused', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const policy = join(pki.dir, 'policy.yaml');
  writeFileSync(policy, policyFor('spiffe://example.org/ns/prod/*'));
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  let release = (): void => undefined;
  upstream.holdUpgrades = new Promise<void>((r) => (release = r));
  const tls = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
  const outcome = connect(`wss://localhost:${proxy.port}/chat`, tls);
  await waitFor(() => upstream.upgrades.length === 1, { timeoutMs: 10_000, what: 'the upgrade at the upstream' });
  writeFileSync(policy, policyFor('spiffe://example.org/ns/ops/sa/console'));
  t.equal(proxy.reload('manual'), 'success');
  // Past one re-judge tick of the open tunnels (1 s), so a tunnel joining later is not caught by a tick that has
  // already seen this reload: the behaviour under test, not a wait for a result.
  await new Promise((r) => setTimeout(r, 1500));
  release();
  const result = await outcome;
  if (typeof result !== 'number') result.terminate();
  t.equal(result, 403, 'the caller gets 403, not a tunnel');
});

t.test('a tunnel whose client certificate expires is closed', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const asn1 = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  const expiresAt = Date.now() + 4000;
  const shortLived = makeLeaf(pki.dir, 'short', pki.ca, {
    san: ['URI:spiffe://example.org/ns/prod/sa/short'],
    notBefore: asn1(Date.now() - 60_000),
    notAfter: asn1(expiresAt),
  });
  const ws = await connect(`wss://localhost:${proxy.port}/feed`, {
    ca: pki.ca.certPem,
    cert: shortLived.certPem,
    key: shortLived.keyPem,
  });
  if (typeof ws === 'number') return t.fail(`the tunnel was refused (${ws}) while the certificate was valid`);
  const echo = await new Promise<string>((resolve) => {
    ws.once('message', (d) => resolve(d.toString()));
    ws.send('valid');
  });
  t.equal(echo, 'echo:valid', 'open while the certificate is valid');
  // notAfter has whole seconds; then one re-judge tick; the rest is margin for a busy machine.
  const closed = await closedWithin(ws, Math.max(0, expiresAt - Date.now()) + 1000 + 1000 + 10_000);
  t.ok(closed, 'closed once the certificate expired');
  if (!closed) ws.terminate();
});
