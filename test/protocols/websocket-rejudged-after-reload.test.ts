// An open WebSocket tunnel is judged again after a reload: when the new policy no longer admits its caller, the tunnel
// is closed.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
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
