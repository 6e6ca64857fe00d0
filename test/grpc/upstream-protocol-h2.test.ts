// --upstream-protocol h2: plain HTTP requests from HTTP/1.1 and HTTP/2 callers reach an h2c upstream over HTTP/2, with
// the same hygiene and error bodies.
import t from 'tap';
import http2 from 'node:http2';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { curl } from '../protocols/lib/curl.js';

interface Seen {
  httpVersion: string;
  path: string;
  headers: http2.IncomingHttpHeaders;
  sha256: string;
}

async function startH2cUpstream(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http2.createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => hash.update(c));
    req.on('end', () => {
      seen.push({ httpVersion: req.httpVersion, path: req.url, headers: req.headers, sha256: hash.digest('hex') });
      if (req.url === '/slow') return; // never answers
      if (req.url === '/reset') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        setTimeout(() => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 50);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end(seen[seen.length - 1]!.sha256);
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

t.test('plain HTTP over h2c', async (t) => {
  const pki = makeTestPki();
  const upstream = await startH2cUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { upstreamProtocol: 'h2', upstreamTimeoutMs: 500 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const file = join(pki.dir, 'body.bin');
  writeFileSync(file, Buffer.alloc(2 * 1024 * 1024 + 5, 3));
  const expected = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
  for (const http1 of [true, false]) {
    const res = await curl({
      port: proxy.port,
      ca: pki.ca.cert,
      client: pki.client,
      path: '/api/./upload',
      http1,
      headers: ['X-Client-Subject: CN=admin', 'X_Client_Uri: spiffe://x', 'X-Custom: kept'],
      args: ['--data-binary', `@${file}`],
    });
    t.equal(res.status, 200, `caller over HTTP/${http1 ? '1.1' : '2'}`);
    t.equal(res.body, expected, 'the upstream hashed exactly the bytes sent');
  }
  t.same(
    upstream.seen.map((s) => s.httpVersion),
    ['2.0', '2.0'],
    'the upstream was spoken to in HTTP/2',
  );
  const got = upstream.seen[0]!;
  t.equal(got.path, '/api/upload', 'the normalized path');
  t.equal(got.headers['x-client-subject'], 'CN=orders,OU=payments,O=Acme');
  t.equal(got.headers['x-client-uri'], 'spiffe://example.org/ns/prod/sa/orders');
  t.equal(got.headers['x-custom'], 'kept');
  t.equal(got.headers['x_client_uri'], undefined);

  const trailers = await new Promise<http2.IncomingHttpHeaders | undefined>((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${proxy.port}`, {
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      servername: 'localhost',
    });
    session.on('error', reject);
    const req = session.request({ ':path': '/t' });
    let got: http2.IncomingHttpHeaders | undefined;
    req.on('trailers', (h) => {
      got = h;
    });
    req.resume();
    req.on('close', () => {
      session.close();
      resolve(got);
    });
    req.end();
  });
  t.equal(trailers?.['x-checksum'], 'abc', 'upstream trailers reach an HTTP/2 caller');

  const slow = await curl({ port: proxy.port, ca: pki.ca.cert, client: pki.client, path: '/slow', http1: true });
  t.equal(slow.status, 504);
  t.match(JSON.parse(slow.body), { error: 'upstream_timeout' });
  const reset = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/reset',
    http1: true,
  }).catch((err: Error) => err);
  t.ok(reset instanceof Error, 'a reset after the headers cuts the response: curl reports an incomplete transfer');
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.notOk(
    access.some((l) => 'grpcStatus' in l),
    'plain requests carry no grpcStatus',
  );
});

t.test('plain HTTP over h2c: upstream down is 502', async (t) => {
  const pki = makeTestPki();
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${port}`, { upstreamProtocol: 'h2' }));
  t.teardown(async () => {
    await proxy.close(100);
    pki.cleanup();
  });
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/x',
    headers: ['X-Request-Id: down-1'],
  });
  t.equal(res.status, 502);
  t.same(JSON.parse(res.body), { error: 'bad_gateway', requestId: 'down-1' });
});
