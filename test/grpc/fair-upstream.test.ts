// A fair HTTP/2 upstream: a caller holding every stream the upstream allows does not stop another caller (a second
// session is opened), and its streams beyond --upstream-streams-per-connection are refused.
import t from 'tap';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { makeLeaf } from '../helpers/pki.js';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { frameOrderRequest } from './lib/raw-h2.js';

const UPSTREAM_STREAM_LIMIT = 4;

/** h2c upstream advertising MAX_CONCURRENT_STREAMS 4: holds /hog streams open, answers anything else at once. */
async function startTightUpstream() {
  const seen = { sessions: 0, paths: [] as string[] };
  const held: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings: { maxConcurrentStreams: UPSTREAM_STREAM_LIMIT } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    seen.sessions += 1;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    seen.paths.push(path);
    stream.on('error', () => undefined);
    if (path.startsWith('/shop.v1.Orders/')) {
      held.push(stream); // a client-streaming call that never ends
      stream.resume();
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('ops ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

t.test(
  'a hog holding the upstream stream limit does not stop another caller; its extra calls are refused',
  async (t) => {
    const pki = makeTestPki();
    const ops = makeLeaf(pki.dir, 'ops', pki.ca, { san: ['URI:spiffe://example.org/ns/prod/sa/ops'] });
    const upstream = await startTightUpstream();
    const proxy = await startTestProxy(
      baseConfig(pki, upstream.url, {
        upstreamProtocol: 'h2',
        upstreamTimeoutMs: 3000,
        limits: {
          maxConnections: 512,
          maxHandshakes: 128,
          maxConcurrentStreams: 100,
          upstreamMaxConnections: 8,
          upstreamStreamsPerConnection: UPSTREAM_STREAM_LIMIT,
        },
      }),
    );
    const connect = (who: { certPem: string; keyPem: string }) => {
      const s = http2.connect(`https://localhost:${proxy.port}`, {
        ca: pki.ca.certPem,
        cert: who.certPem,
        key: who.keyPem,
        servername: 'localhost',
      });
      s.on('error', () => undefined);
      return s;
    };
    const hog = connect(pki.client);
    const opsSession = connect(ops);
    t.teardown(async () => {
      hog.destroy();
      opsSession.destroy();
      await proxy.close(0);
      await upstream.close();
      pki.cleanup();
    });

    const grpcHeaders = {
      ':method': 'POST',
      ':path': '/shop.v1.Orders/RecordOrders',
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    const hogCalls: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < UPSTREAM_STREAM_LIMIT; i += 1) {
      const call = hog.request(grpcHeaders);
      call.on('error', () => undefined);
      call.write(frameOrderRequest(`hog-${i}`));
      hogCalls.push(call);
    }
    const deadline = Date.now() + 10_000;
    while (upstream.seen.paths.length < UPSTREAM_STREAM_LIMIT && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    t.equal(
      upstream.seen.paths.length,
      UPSTREAM_STREAM_LIMIT,
      'the hog holds every stream the upstream allows on one session',
    );

    // One more call from the hog's connection: over its cap, answered by the proxy with RESOURCE_EXHAUSTED.
    const extra = await new Promise<{ headers: http2.IncomingHttpHeaders; rstCode: number }>((resolve) => {
      const call = hog.request(grpcHeaders);
      let headers: http2.IncomingHttpHeaders = {};
      call.on('response', (h) => (headers = h));
      call.on('error', () => undefined);
      call.resume();
      const timer = setTimeout(() => call.close(http2.constants.NGHTTP2_CANCEL), 10_000);
      call.on('close', () => {
        clearTimeout(timer);
        resolve({ headers, rstCode: call.rstCode ?? 0 });
      });
      call.end(frameOrderRequest('hog-extra'));
    });
    t.equal(extra.headers['grpc-status'], '8', "the hog's extra call gets RESOURCE_EXHAUSTED from the proxy");

    // A plain request on the same connection (--upstream-protocol h2) is over the cap too: 429 with the fixed body.
    const plainExtra = await new Promise<{ status: number; body: string }>((resolve) => {
      const req = hog.request({ ':path': '/more' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('error', () => undefined);
      const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 10_000);
      req.on('close', () => {
        clearTimeout(timer);
        resolve({ status, body });
      });
    });
    t.equal(plainExtra.status, 429, 'a plain request over the cap gets 429');
    t.match(JSON.parse(plainExtra.body || '{}'), { error: 'too_many_streams' });

    // The ops caller, on its own connection, still gets its answer: the proxy opened another upstream session.
    const opsAnswer = await new Promise<{ status: number; body: string }>((resolve) => {
      const req = opsSession.request({ ':path': '/admin' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('error', () => undefined);
      const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 15_000);
      req.on('close', () => {
        clearTimeout(timer);
        resolve({ status, body });
      });
    });
    t.equal(
      opsAnswer.status,
      200,
      `the other caller got 200 while the hog held the upstream's limit (${opsAnswer.status})`,
    );
    t.equal(opsAnswer.body, 'ops ok');
    t.equal(upstream.seen.sessions, 2, 'the upstream saw a second session');
    t.same(
      upstream.seen.paths.filter((p) => p !== '/admin').length,
      UPSTREAM_STREAM_LIMIT,
      'the refused call and request never reached the upstream',
    );
    for (const call of hogCalls) call.close(http2.constants.NGHTTP2_CANCEL);
  },
);

t.test("calls beyond one session's stream limit go to further sessions instead of queueing", async (t) => {
  const pki = makeTestPki();
  const upstream = await startTightUpstream();
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, {
      limits: {
        maxConnections: 512,
        maxHandshakes: 128,
        maxConcurrentStreams: 100,
        upstreamMaxConnections: 8,
        upstreamStreamsPerConnection: 50,
      },
    }),
  );
  const caller = http2.connect(`https://localhost:${proxy.port}`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    servername: 'localhost',
  });
  caller.on('error', () => undefined);
  t.teardown(async () => {
    caller.destroy();
    await proxy.close(0);
    await upstream.close();
    pki.cleanup();
  });
  const calls: http2.ClientHttp2Stream[] = [];
  // One call first, so the upstream's SETTINGS (limit 4) are known before the rest arrive together.
  for (const n of [1, 9]) {
    for (let i = 0; i < n; i += 1) {
      const call = caller.request({
        ':method': 'POST',
        ':path': '/shop.v1.Orders/RecordOrders',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      call.on('error', () => undefined);
      call.write(frameOrderRequest(`c-${calls.length}`));
      calls.push(call);
    }
    const deadline = Date.now() + 10_000;
    while (upstream.seen.paths.length < calls.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(upstream.seen.paths.length, 10, 'all 10 held calls reached the upstream (none queued behind the limit of 4)');
  t.equal(upstream.seen.sessions, 3, 'over 3 upstream sessions (4 + 4 + 2)');
  for (const call of calls) call.close(http2.constants.NGHTTP2_CANCEL);
});
