// One response-header relay policy for every forwarding kind: hop-by-hop names (RFC 9110 §7.6.1, plus Trailer and
// HTTP2-Settings) and the names the upstream lists in Connection never reach the caller, over gRPC (h2 to h2), plain
// HTTP over an h2 upstream (HTTP/2 and HTTP/1.1 callers), and a refused WebSocket handshake. The HTTP/1.1 upstream path
// is covered by hop-by-hop-response-headers.test.ts.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  rawTlsExchange,
  startTestProxy,
  type TestPki,
  type TestProxy,
} from '../helpers/gate-harness.js';
import { frameOrderRequest, startRawH2cUpstream } from '../grpc/lib/raw-h2.js';

/** What an HTTP/2 upstream can send past nghttp2's own checks (it refuses Connection, Keep-Alive, Upgrade…). */
const H2_UPSTREAM_HEAD = { trailer: 'x-checksum', te: 'trailers', 'x-end-to-end': 'kept' };

function h2Head(
  proxy: TestProxy,
  pki: TestPki,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://localhost:${proxy.port}`, {
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
    });
    session.on('error', reject);
    const req = session.request(headers);
    req.on('error', reject);
    req.on('response', (head) => {
      resolve(head);
      req.on('data', () => undefined);
      req.on('close', () => session.close());
    });
    req.end(body);
  });
}

async function startH2Stack(
  t: { teardown(fn: () => unknown): void },
  overrides: Parameters<typeof baseConfig>[2] = {},
) {
  const pki = makeTestPki();
  const upstream = await startRawH2cUpstream((stream, headers) => {
    const grpc = String(headers['content-type']).startsWith('application/grpc');
    stream.respond(
      { ':status': 200, 'content-type': grpc ? 'application/grpc' : 'text/plain', ...H2_UPSTREAM_HEAD },
      { waitForTrailers: grpc },
    );
    if (grpc) stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpc ? frameOrderRequest('o') : 'body');
  });
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, overrides));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  return { pki, proxy };
}

t.test('gRPC (h2 to h2): Trailer and TE stay on the upstream hop', async (t) => {
  const { pki, proxy } = await startH2Stack(t);
  const head = await h2Head(
    proxy,
    pki,
    { ':method': 'POST', ':path': '/shop.v1.Orders/GetOrder', 'content-type': 'application/grpc', te: 'trailers' },
    frameOrderRequest('a'),
  );
  t.equal(head[':status'], 200);
  t.equal(head['x-end-to-end'], 'kept', 'end-to-end headers pass');
  t.notOk('trailer' in head, 'no Trailer');
  t.notOk('te' in head, 'no TE');
});

t.test(
  'plain HTTP over an h2 upstream: Trailer and TE stay on the upstream hop, for HTTP/2 and HTTP/1.1 callers',
  async (t) => {
    const { pki, proxy } = await startH2Stack(t, { upstreamProtocol: 'h2' });
    const head = await h2Head(proxy, pki, { ':path': '/plain' });
    t.equal(head[':status'], 200);
    t.equal(head['x-end-to-end'], 'kept', 'HTTP/2 caller: end-to-end headers pass');
    t.notOk('trailer' in head || 'te' in head, 'HTTP/2 caller: no Trailer, no TE');

    const raw = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 3000,
      payload: 'GET /plain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    });
    const h1 = raw.received.split('\r\n\r\n')[0] ?? '';
    t.match(h1, /^HTTP\/1\.1 200 /);
    t.match(h1, /\r\nx-end-to-end: kept(\r\n|$)/i, 'HTTP/1.1 caller: end-to-end headers pass');
    t.notMatch(h1, /\r\n(trailer|te):/i, 'HTTP/1.1 caller: no Trailer, no TE');
  },
);

t.test(
  'a refused WebSocket handshake: hop-by-hop and Connection-listed headers stay on the upstream hop',
  async (t) => {
    const pki = makeTestPki();
    const upstream = http.createServer((_req, res) => res.end('plain'));
    upstream.on('upgrade', (_req, socket) => {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n' +
          'Connection: close, X-Hop-Secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n' +
          'X-Hop-Secret: upstream-only\r\nTrailer: x-checksum\r\nX-End-To-End: kept\r\n\r\nrefused',
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
    t.teardown(async () => {
      await proxy.close(100);
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
      pki.cleanup();
    });
    const raw = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 3000,
      payload:
        'GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    });
    const [head = '', body = ''] = raw.received.split('\r\n\r\n');
    t.match(head, /^HTTP\/1\.1 403 /, 'the upstream refusal is relayed');
    t.match(head, /\r\nx-end-to-end: kept(\r\n|$)/i, 'end-to-end headers pass');
    t.notMatch(
      head,
      /x-hop-secret|proxy-connection|keep-alive: timeout=5|\r\ntrailer:/i,
      'no hop-by-hop header, nor one the upstream named in Connection',
    );
    t.match(body, /refused/);
  },
);
