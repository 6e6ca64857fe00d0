// An authorized WebSocket upgrade reaches the upstream with the identity headers, without forged ones, and carries
// messages both ways.
import t from 'tap';
import WebSocket from 'ws';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { headerValues, startWsUpstream } from './lib/ws-upstream.js';

t.test('upgrade is authorized, stripped and given the identity', async (t) => {
  const pki = makeTestPki();
  const upstream = await startWsUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  const ws = new WebSocket(`wss://localhost:${proxy.port}/chat/./room//1?token=a%2Fb+c&x=%7e`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    headers: {
      'X-Client-Subject': 'CN=admin,O=Evil',
      X_Client_URI: 'spiffe://example.org/ns/ops/sa/console',
      'x-forwarded-client-cert': 'Hash=00;Subject="CN=admin"',
      'X-Forwarded-For': '10.0.0.1',
      'X-Forwarded-Host': 'evil.example',
      'Client-Cert': ':AAAA:',
      'X-Request-Id': 'ws-req-1',
      'X-Custom': 'kept',
    },
    perMessageDeflate: false,
  });
  const opened = await new Promise<string>((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
  t.equal(opened, 'open', 'the upgrade succeeded');
  const reply = await new Promise<string>((resolve) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.send('hello');
  });
  t.equal(reply, 'echo:hello', 'messages flow both ways through the tunnel');
  const big = Buffer.alloc(256 * 1024, 7);
  const bigReply = await new Promise<Buffer>((resolve) => {
    ws.once('message', (data) => resolve(data as Buffer));
    ws.send(big, { binary: true });
  });
  t.ok(bigReply.equals(big), 'a 256 KiB binary message arrives intact');
  ws.close();

  t.equal(upstream.upgrades.length, 1);
  const got = upstream.upgrades[0]!;
  t.equal(got.url, '/chat/room/1?token=a%2Fb+c&x=%7e', 'normalized path, query byte for byte');
  const h = (name: string): string[] => headerValues(got.rawHeaders, name);
  t.same(h('x-client-subject'), ['CN=orders,OU=payments,O=Acme']);
  t.same(h('x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(h('x-client-cn'), ['orders']);
  t.same(h('x-forwarded-for'), ['127.0.0.1']);
  t.same(h('x-forwarded-proto'), ['https']);
  t.same(h('x-forwarded-host'), [`localhost:${proxy.port}`]);
  t.same(h('x-request-id'), ['ws-req-1']);
  t.same(h('client-cert'), [], 'no forged Client-Cert');
  t.equal(h('x-forwarded-client-cert').length, 1);
  t.match(
    h('x-forwarded-client-cert')[0],
    /^Hash=[0-9a-f]{64};Subject="CN=orders,OU=payments,O=Acme";URI=spiffe:\/\/example\.org\/ns\/prod\/sa\/orders;DNS=orders\.example\.org$/,
  );
  t.same(h('x-custom'), ['kept'], 'ordinary headers pass');
  t.equal(h('sec-websocket-key').length, 1, 'the caller handshake reaches the upstream');
  t.same(h('upgrade'), ['websocket']);
  t.same(h('connection'), ['Upgrade']);
  const names = [];
  for (let i = 0; i < got.rawHeaders.length; i += 2) names.push(got.rawHeaders[i]!.toLowerCase().replaceAll('_', '-'));
  t.equal(names.filter((n) => n === 'x-client-subject').length, 1, 'one subject header in any spelling');
  t.equal(names.filter((n) => n === 'x-client-uri').length, 1, 'one uri header in any spelling');

  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.equal(access.length, 1);
  t.equal(access[0]!.status, 101);
  t.equal(access[0]!.path, '/chat/room/1');
  t.equal(access[0]!.decision, 'allow');
});
