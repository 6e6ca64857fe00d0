// An Upgrade header that is not a WebSocket handshake is hop-by-hop: with --upstream-protocol h2 such a request goes
// over HTTP/2 like any other, without the header; a WebSocket handshake never forwards another protocol in Upgrade,
// and with an h2c-only upstream it gets the documented 502 before any 101.
import t from 'tap';
import { baseConfig, makeTestPki, rawTlsExchange, startTestProxy, type TestPki } from '../helpers/gate-harness.js';
import { startH2Rig } from './lib/h2c-upstream.js';
import { startWsUpstream } from './lib/ws-upstream.js';

const names = (rawHeaders: string[]): string[] => rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
const send = (pki: TestPki, port: number, payload: string): Promise<string> =>
  rawTlsExchange({
    port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload,
    timeoutMs: 5000,
  }).then((r) => r.received);

t.test(
  '--upstream-protocol h2: a non-WebSocket Upgrade header is dropped and the request goes over HTTP/2',
  async (t) => {
    const { pki, upstream, proxy } = await startH2Rig(t);
    const cases: Array<[label: string, head: string, body: string]> = [
      ['Upgrade: h2c', 'GET /a HTTP/1.1\r\nHost: localhost\r\nUpgrade: h2c\r\nConnection: close\r\n\r\n', ''],
      [
        'Upgrade: websocket without Connection: upgrade',
        'GET /b HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n',
        '',
      ],
      [
        'POST with Upgrade: foo/1 and a body',
        'POST /c HTTP/1.1\r\nHost: localhost\r\nUpgrade: foo/1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
        'hello',
      ],
      [
        'Upgrade: h2c, websocket with HTTP2-Settings',
        'GET /d HTTP/1.1\r\nHost: localhost\r\nUpgrade: h2c, websocket\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nConnection: close\r\n\r\n',
        '',
      ],
    ];
    for (const [label, head, body] of cases) {
      const before = upstream.seen.length;
      const answer = await send(pki, proxy.port, head + body);
      t.match(answer, /^HTTP\/1\.1 200 /, `${label}: answered 200 (${answer.split('\r\n')[0]})`);
      t.match(answer, /h2 ok/, `${label}: by the upstream`);
      t.equal(upstream.seen.length, before + 1, `${label}: the upstream saw one request`);
      const seen = upstream.seen.at(-1)!;
      t.equal(seen.httpVersion, '2.0', `${label}: over HTTP/2`);
      t.notOk(names(seen.rawHeaders).includes('upgrade'), `${label}: without Upgrade`);
      t.notOk(names(seen.rawHeaders).includes('http2-settings'), `${label}: without HTTP2-Settings`);
      t.equal(seen.body, body, `${label}: body intact`);
    }
  },
);

t.test('--upstream-protocol h2: a WebSocket handshake to an h2c-only upstream gets 502 before any 101', async (t) => {
  const { pki, upstream, proxy } = await startH2Rig(t);
  const answer = await send(
    pki,
    proxy.port,
    'GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  t.match(answer, /^HTTP\/1\.1 502 /, 'the documented answer');
  t.match(answer, /"error":"bad_gateway"/);
  // A status line, not any 101 in the text: the random request id may contain one.
  t.notMatch(answer, /^HTTP\/1\.1 101 /m, 'no switch');
  t.equal(upstream.seen.length, 0, 'the upstream ran no request');
});

t.test('a WebSocket handshake listing h2c forwards only websocket in Upgrade', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const answer = await send(
    pki,
    proxy.port,
    'GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket, h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  t.match(answer, /^HTTP\/1\.1 101 /, 'switched to WebSocket');
  t.equal(upstream.upgrades.length, 1);
  const raw = upstream.upgrades[0]!.rawHeaders;
  const upgrade = raw.filter((_, i) => i > 0 && raw[i - 1]!.toLowerCase() === 'upgrade');
  t.same(upgrade, ['websocket'], 'only websocket was asked of the upstream');
  t.notOk(names(raw).includes('http2-settings'));
});
