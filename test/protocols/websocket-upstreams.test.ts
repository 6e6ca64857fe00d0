// WebSocket tunnels to unix-socket and https upstreams; an upstream that is down or refuses the upgrade is answered
// over plain HTTP.
import t from 'tap';
import { join } from 'node:path';
import WebSocket from 'ws';
import { makeCa } from '../helpers/pki.js';
import { baseConfig, makeTestPki, rawTlsExchange, startTestProxy, type TestPki } from '../helpers/gate-harness.js';
import { headerValues, startWsUpstream } from './lib/ws-upstream.js';

function openEcho(port: number, pki: TestPki, path: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://localhost:${port}${path}`, {
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
    });
    ws.once('open', () => ws.send('ping'));
    ws.once('message', (data) => {
      resolve(data.toString());
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

t.test('unix socket upstream, query bytes exactly as sent', async (t) => {
  const pki = makeTestPki();
  const socketPath = join(pki.dir, 'ws.sock');
  const upstream = await startWsUpstream({ socketPath });
  const config = baseConfig(pki, 'http://127.0.0.1:1');
  config.upstream = { kind: 'unix', socketPath, origin: `unix:${socketPath}` };
  const proxy = await startTestProxy(config);
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  t.equal(await openEcho(proxy.port, pki, '/live'), 'echo:ping');
  // Raw bytes, so no client library re-encodes the query on the way.
  const query = "?a='b'&c=%7E%7e&d=e+f&g=%2F&h=;&i=[]";
  const raw = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    timeoutMs: 1000,
    payload: `GET /%6Cive//feed${query} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  });
  t.match(raw.received, /^HTTP\/1\.1 101 /, 'switched');
  t.match(
    raw.received,
    /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i,
    "the upstream answered the caller's own key (RFC 6455 example)",
  );
  t.equal(upstream.upgrades.length, 2);
  t.equal(upstream.upgrades[1]!.url, `/live/feed${query}`, 'normalized path, raw query');
  t.same(headerValues(upstream.upgrades[1]!.rawHeaders, 'x-client-cn'), ['orders']);
});

t.test('https upstream verified with --upstream-ca', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream({ tls: { cert: pki.server.certPem, key: pki.server.keyPem } });
  const good = await startTestProxy(baseConfig(pki, upstream.url, { upstreamCa: pki.ca.cert }));
  const otherCa = makeCa(pki.dir, 'Other CA');
  const bad = await startTestProxy(baseConfig(pki, upstream.url, { upstreamCa: otherCa.cert }));
  t.teardown(async () => {
    await good.close(100);
    await bad.close(100);
    await upstream.close();
    pki.cleanup();
  });
  t.equal(await openEcho(good.port, pki, '/secure'), 'echo:ping');
  t.same(headerValues(upstream.upgrades[0]!.rawHeaders, 'x-client-subject'), ['CN=orders,OU=payments,O=Acme']);
  t.equal(await openEcho(bad.port, pki, '/secure'), 'status 502', 'an upstream certificate from another CA is refused');
  t.equal(upstream.upgrades.length, 1);
});

t.test('upstream down: 502 with the fixed body; upstream refusal relayed', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const url = upstream.url;
  await upstream.close();
  const down = await startTestProxy(baseConfig(pki, url));
  const live = await startWsUpstream();
  live.refuseWith = 404;
  const refusing = await startTestProxy(baseConfig(pki, live.url));
  t.teardown(async () => {
    await down.close(100);
    await refusing.close(100);
    await live.close();
    pki.cleanup();
  });
  const hs = `GET /x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: r-1\r\n\r\n`;
  const client = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
  const r1 = await rawTlsExchange({ port: down.port, ...client, payload: hs });
  t.match(r1.received, /^HTTP\/1\.1 502 /);
  t.match(r1.received, /\r\n\r\n\{"error":"bad_gateway","requestId":"r-1"\}$/, 'fixed body, no upstream error text');
  t.notMatch(r1.received, /ECONNREFUSED/);

  const r2 = await rawTlsExchange({ port: refusing.port, ...client, payload: hs });
  t.match(r2.received, /^HTTP\/1\.1 404 /, 'the upstream refusal is relayed');
  t.match(r2.received, /\r\nx-upstream: yes\r\n/i);
  t.match(r2.received, /\r\n\r\nnot here$/);
  t.equal(live.upgrades.length, 1);
});
