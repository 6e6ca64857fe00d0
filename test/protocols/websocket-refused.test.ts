// A refused WebSocket upgrade gets a plain HTTP 403 (or 400) before any upgrade, and the upstream never sees a
// connection.
import t from 'tap';
import WebSocket from 'ws';
import { makeLeaf } from '../helpers/pki.js';
import { baseConfig, makeTestPki, rawTlsExchange, startTestProxy } from '../helpers/gate-harness.js';
import { startWsUpstream } from './lib/ws-upstream.js';

const handshake = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

t.test('refused upgrades never reach the upstream', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const stranger = makeLeaf(pki.dir, 'stranger', pki.ca, { san: ['URI:spiffe://example.org/ns/dev/sa/x'] });

  // The ws client: the handshake fails with the HTTP status, no 101.
  const ws = new WebSocket(`wss://localhost:${proxy.port}/chat`, {
    ca: pki.ca.certPem,
    cert: stranger.certPem,
    key: stranger.keyPem,
  });
  const outcome = await new Promise<{ status: number; body: string } | string>((resolve) => {
    ws.once('open', () => resolve('opened'));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
  t.type(outcome, 'object', 'the handshake was answered with an HTTP response');
  if (typeof outcome === 'object') {
    t.equal(outcome.status, 403);
    t.equal(JSON.parse(outcome.body).error, 'forbidden');
  }
  ws.terminate();

  // Raw bytes: the exact answer on the wire, and the connection ends after it.
  const raw = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: stranger.certPem,
    key: stranger.keyPem,
    payload: handshake('/chat', 'X-Request-Id: ws-denied\r\n'),
  });
  t.match(raw.received, /^HTTP\/1\.1 403 Forbidden\r\n/, '403 status line');
  t.notMatch(raw.received, /101 Switching/i);
  t.match(
    raw.received,
    /\r\n\r\n\{"error":"forbidden","requestId":"ws-denied"\}$/,
    'fixed body, then the connection closes',
  );

  // An allowed caller, but an unsafe path: 400 before any upgrade.
  const bad = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: handshake('/chat/..;/admin'),
  });
  t.match(bad.received, /^HTTP\/1\.1 400 /, 'unsafe path refused');

  // Upgrades to anything but WebSocket (h2c smuggling, made-up protocols) are refused too.
  for (const upgrade of ['h2c', 'foo/1']) {
    const other = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: `GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: ${upgrade}\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`,
    });
    t.match(other.received, /^HTTP\/1\.1 400 /, `Upgrade: ${upgrade} refused`);
  }
  // A WebSocket handshake with a body is refused: the upstream would read the body as frames.
  const withBody = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: `${handshake('/chat', 'Content-Length: 5\r\n')}hello`,
  });
  t.match(withBody.received, /^HTTP\/1\.1 400 /, 'handshake with a body refused');

  t.equal(upstream.connections(), 0, 'the upstream never saw a connection');
  t.equal(upstream.upgrades.length, 0);
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.ok(
    access.some((l) => l.decision === 'deny' && l.status === 403),
    'refusal logged',
  );
});
