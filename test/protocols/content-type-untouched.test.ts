// A proxy forwards any Content-Type untouched: `json` (no "/"), an empty one or odd parameters are not the proxy's to
// judge. Over HTTP/1.1 and HTTP/2 the upstream receives the exact value and the exact body, and the body streams (the
// upstream holds the first part before the caller sends the rest).
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { baseConfig, makeTestPki, rawHeaderValues, startGateStack, startTestProxy } from '../helpers/gate-harness.js';
import { curl } from './lib/curl.js';
import { startH2Rig } from './lib/h2c-upstream.js';

const CONTENT_TYPES: Array<[header: string, sent: string]> = [
  ['Content-Type: json', 'json'],
  ['Content-Type;', ''],
  ['Content-Type: text/plain;;', 'text/plain;;'],
  ['Content-Type: application/json; charset=', 'application/json; charset='],
  ['Content-Type: /', '/'],
];

t.test('odd content types reach the upstream as sent, with their bodies', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const body = randomBytes(64 * 1024);
  const bodyFile = join(pki.dir, 'body.bin');
  writeFileSync(bodyFile, body);
  for (const http1 of [true, false]) {
    for (const [header, sent] of CONTENT_TYPES) {
      const label = `${http1 ? 'HTTP/1.1' : 'HTTP/2'} ${JSON.stringify(header)}`;
      const before = upstream.received.length;
      const r = await curl({
        port: proxy.port,
        ca: pki.ca.cert,
        client: pki.client,
        path: '/upload',
        http1,
        headers: [header],
        args: ['--data-binary', `@${bodyFile}`],
      });
      t.equal(r.status, 200, `${label}: forwarded (${r.body.slice(0, 80)})`);
      t.equal(upstream.received.length, before + 1, `${label}: the upstream got the request`);
      const got = upstream.received.at(-1)!;
      t.same(rawHeaderValues(got, 'content-type'), [sent], `${label}: content type untouched`);
      t.equal(
        createHash('sha256').update(got.body).digest('hex'),
        createHash('sha256').update(body).digest('hex'),
        `${label}: body intact`,
      );
    }
  }
});

/** An upstream that reports the first body bytes of a request as soon as they arrive. */
async function startStreamingUpstream(): Promise<{
  url: string;
  firstChunk: Promise<string | undefined>;
  done: Promise<number>;
  close(): Promise<void>;
}> {
  let resolveFirst!: (ct: string | undefined) => void;
  let resolveDone!: (n: number) => void;
  const firstChunk = new Promise<string | undefined>((r) => (resolveFirst = r));
  const done = new Promise<number>((r) => (resolveDone = r));
  const server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      if (n === 0) resolveFirst(req.headers['content-type']);
      n += c.length;
    });
    req.on('end', () => {
      resolveDone(n);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstChunk,
    done,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

t.test('a body with an odd content type streams over HTTP/1.1', async (t) => {
  const pki = makeTestPki();
  const upstream = await startStreamingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const socket = tls.connect({
    host: '127.0.0.1',
    port: proxy.port,
    servername: 'localhost',
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    ALPNProtocols: ['http/1.1'],
  });
  t.teardown(() => socket.destroy());
  await new Promise<void>((r) => socket.once('secureConnect', () => r()));
  let answer = '';
  socket.on('data', (c: Buffer) => {
    answer += c.toString('latin1');
  });
  socket.write(
    'POST /stream HTTP/1.1\r\nHost: localhost\r\nContent-Type: json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nfirs\r\n',
  );
  t.equal(await upstream.firstChunk, 'json', 'the upstream holds the first part, content type as sent');
  socket.write('4\r\nt-pt\r\n0\r\n\r\n');
  t.equal(await upstream.done, 8, 'then the rest');
  await new Promise<void>((r) => {
    const check = (): void => {
      if (/\r\n\r\nok$|\r\n0\r\n\r\n$/.test(answer)) r();
      else socket.once('data', check);
    };
    check();
  });
  t.match(answer, /^HTTP\/1\.1 200 /);
});

t.test('a body with an empty content type streams over HTTP/2', async (t) => {
  const pki = makeTestPki();
  const upstream = await startStreamingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  const session = http2.connect(`https://localhost:${proxy.port}`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    host: '127.0.0.1',
  });
  t.teardown(async () => {
    session.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const stream = session.request({ ':method': 'POST', ':path': '/stream', 'content-type': '' }, { endStream: false });
  const status = new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
  stream.write('firs');
  t.equal(await upstream.firstChunk, '', 'the upstream holds the first part, content type as sent');
  stream.end('t-pt');
  t.equal(await upstream.done, 8, 'then the rest');
  t.equal(await status, 200);
  stream.resume();
});

t.test('with --upstream-protocol h2 odd content types reach the upstream as sent too', async (t) => {
  const { pki, upstream, proxy } = await startH2Rig(t);
  for (const http1 of [true, false]) {
    for (const [header, sent] of CONTENT_TYPES) {
      const label = `${http1 ? 'HTTP/1.1' : 'HTTP/2'} ${JSON.stringify(header)}`;
      const r = await curl({
        port: proxy.port,
        ca: pki.ca.cert,
        client: pki.client,
        path: '/upload',
        http1,
        headers: [header],
        args: ['--data-binary', 'abc'],
      });
      t.equal(r.status, 200, `${label}: forwarded`);
      const seen = upstream.seen.at(-1)!;
      const values = seen.rawHeaders.filter(
        (_, i) => i > 0 && seen.rawHeaders[i - 1]!.toLowerCase() === 'content-type',
      );
      t.same(values, [sent], `${label}: content type untouched`);
      t.equal(seen.body, 'abc', `${label}: body intact`);
    }
  }
});
