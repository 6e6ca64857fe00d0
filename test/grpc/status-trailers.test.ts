// Upstream statuses reach the caller intact: status, message and trailing metadata in trailers, and trailers-only
// answers kept in one frame.
import t from 'tap';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, startGrpcUpstream, startGrpcStack } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall } from './lib/raw-h2.js';

/** The same call straight to the h2c upstream: the baseline of what the upstream itself sends. */
function directCall(
  url: string,
  id: string,
): Promise<{ endStreamOnHeaders: boolean; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': '/shop.v1.Orders/GetOrder',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('response', (headers, flags) => {
      resolve({ headers, endStreamOnHeaders: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 });
      req.resume();
      req.on('close', () => session.close());
    });
    req.end(frameOrderRequest(id));
  });
}

t.test('error statuses with messages and metadata', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t);

  const missing = await callUnary(shop.orders, 'GetOrder', { id: 'missing' });
  t.equal(missing.status.code, grpc.status.NOT_FOUND);
  t.equal(missing.status.details, 'no such order');
  t.same(missing.status.metadata.get('x-reason'), ['not-in-db'], 'trailing metadata arrives');
  t.same(missing.headers?.get('x-lookup'), ['done'], 'initial metadata arrives');

  const gone = await callUnary(shop.orders, 'GetOrder', { id: 'gone' });
  t.equal(gone.status.code, grpc.status.FAILED_PRECONDITION);
  t.equal(gone.status.details, 'order was archived');

  const ok = await callUnary(shop.orders, 'GetOrder', { id: 'fine' });
  t.equal(ok.status.code, grpc.status.OK, 'an OK status comes from the trailers too');

  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.same(
    access.map((l) => l.grpcStatus),
    [5, 9, 0],
    'grpcStatus in each access line',
  );
  t.same(
    access.map((l) => l.status),
    [200, 200, 200],
  );
});

t.test('frames: trailers-only stays one HEADERS frame, a normal answer has its trailers', async (t) => {
  const pki = makeTestPki();
  const upstream = await startGrpcUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const baseline = await directCall(upstream.url, 'gone');
  t.ok(baseline.endStreamOnHeaders, 'baseline: the upstream itself answers trailers-only in one frame');

  const gone = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Orders/GetOrder',
    body: frameOrderRequest('gone'),
  });
  t.ok(gone.endStreamOnHeaders, 'through the proxy: still one HEADERS frame with END_STREAM');
  t.equal(gone.headers[':status'], 200);
  t.equal(gone.headers['grpc-status'], '9');
  t.equal(
    decodeURIComponent(String(gone.headers['grpc-message'])),
    'order was archived',
    'message as the upstream encoded it',
  );
  t.equal(gone.trailers, undefined, 'no separate trailers frame');
  t.equal(gone.body.length, 0);

  const missing = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Orders/GetOrder',
    body: frameOrderRequest('missing'),
  });
  t.notOk(missing.endStreamOnHeaders);
  t.equal(missing.headers['grpc-status'], undefined, 'status not in the headers');
  t.equal(missing.trailers?.['grpc-status'], '5');
  t.equal(decodeURIComponent(String(missing.trailers?.['grpc-message'])), 'no such order');
  t.equal(missing.trailers?.['x-reason'], 'not-in-db');
  t.match(missing.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'the request id is sent back as metadata');
});
