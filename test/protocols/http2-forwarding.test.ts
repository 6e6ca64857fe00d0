// HTTP/2 (ALPN) with the real curl: identity headers arrive, forged ones never do, bodies stream intact both ways.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  baseConfig,
  makeTestPki,
  rawHeaderValues,
  startGateStack,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { curl } from './lib/curl.js';

t.test('identity over HTTP/2, forged headers stripped', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/api//v1/./items?q=a%2Fb&x=%7e',
    headers: [
      'X-Client-Subject: CN=admin,O=Evil',
      'X_Client_Subject: CN=admin,O=Evil',
      'x_client_uri: spiffe://example.org/ns/ops/sa/console',
      'X-Client-CN: admin',
      'X-Forwarded-Client-Cert: Hash=00;Subject="CN=admin"',
      'X-Forwarded-For: 10.9.9.9',
      'X-Forwarded-Host: evil.example',
      'X-Forwarded-Proto: http',
      'Forwarded: for=10.9.9.9',
      'Client-Cert: :AAAA:',
      'Client-Cert-Chain: :AAAA:',
      'X-Request-Id: h2-req-1',
      'X-Custom: kept',
    ],
  });
  t.equal(res.httpVersion, '2', 'curl negotiated HTTP/2');
  t.equal(res.status, 200);
  t.equal(upstream.received.length, 1);
  const got = upstream.received[0]!;
  t.equal(got.url, '/api/v1/items?q=a%2Fb&x=%7e', 'normalized path, raw query');
  const h = (name: string): string[] => rawHeaderValues(got, name);
  t.same(h('x-client-subject'), ['CN=orders,OU=payments,O=Acme']);
  t.same(h('x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(h('x-client-cn'), ['orders']);
  t.same(h('x-forwarded-for'), ['127.0.0.1']);
  t.same(h('x-forwarded-proto'), ['https']);
  t.same(h('x-forwarded-host'), [`localhost:${proxy.port}`], 'from :authority');
  t.same(h('x-request-id'), ['h2-req-1']);
  t.same(h('forwarded'), []);
  t.same(h('client-cert'), []);
  t.same(h('client-cert-chain'), []);
  t.same(h('x-custom'), ['kept']);
  t.match(h('x-forwarded-client-cert')[0], /^Hash=[0-9a-f]{64};Subject="CN=orders,OU=payments,O=Acme";/);
  const names = [];
  for (let i = 0; i < got.rawHeaders.length; i += 2) names.push(got.rawHeaders[i]!.toLowerCase().replaceAll('_', '-'));
  for (const name of ['x-client-subject', 'x-client-uri', 'x-client-cn', 'x-forwarded-client-cert']) {
    t.equal(names.filter((n) => n === name).length, 1, `exactly one ${name} in any spelling`);
  }
  t.notOk(
    names.some((n) => n.startsWith(':')),
    'no pseudo-header reaches the upstream',
  );
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.equal(access[0]!.decision, 'allow');
  t.equal(access[0]!.path, '/api/v1/items');
});

t.test('POST bodies and large responses intact over HTTP/2', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const download = Buffer.alloc(5 * 1024 * 1024 + 3);
  for (let i = 0; i < download.length; i++) download[i] = (i * 31 + 7) & 0xff;
  upstream.handler = (req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(download);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(createHash('sha256').update(req.body).digest('hex'));
  };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const file = join(pki.dir, 'upload.bin');
  const upload = Buffer.alloc(3 * 1024 * 1024 + 11);
  for (let i = 0; i < upload.length; i++) upload[i] = (i * 13) & 0xff;
  writeFileSync(file, upload);
  // sha256sum is the independent witness of what curl sent.
  const expected = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/upload',
    args: ['--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream'],
  });
  t.equal(res.httpVersion, '2');
  t.equal(res.status, 200);
  t.equal(res.body, expected, 'the upstream hashed exactly the bytes curl sent');
  t.equal(upstream.received[0]!.method, 'POST');
  t.equal(upstream.received[0]!.body.length, upload.length);

  const out = join(pki.dir, 'download.bin');
  const dl = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/download',
    args: ['-o', out],
  });
  t.equal(dl.status, 200);
  writeFileSync(join(pki.dir, 'expected.bin'), download);
  t.equal(
    execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0],
    execFileSync('sha256sum', [join(pki.dir, 'expected.bin')], { encoding: 'utf8' }).split(' ')[0],
    'a 5 MiB response arrives byte for byte',
  );
});
