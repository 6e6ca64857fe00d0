// grpc-timeout reaches the upstream, and when the upstream ignores it the proxy ends the call with DEADLINE_EXCEEDED
// and cancels upstream.
import t from 'tap';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, waitFor, startGrpcStack } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall, startRawH2cUpstream } from './lib/raw-h2.js';

t.test('the caller deadline is the upstream deadline', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t, {
    upstream: {
      orders: {
        GetOrder: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          setTimeout(() => cb(null, { id: 'late' }), 1500);
        },
      },
    },
  });
  const deadline = Date.now() + 400;
  const started = Date.now();
  const res = await callUnary(shop.orders, 'GetOrder', { id: 'x' }, { deadline });
  t.equal(res.status.code, grpc.status.DEADLINE_EXCEEDED);
  t.ok(Date.now() - started < 1200, 'answered at the deadline, not when the upstream finished');
  const call = upstream.calls[0]!;
  const seenMs = call.deadline instanceof Date ? call.deadline.getTime() : Number(call.deadline);
  // grpc-timeout is a duration: the upstream's deadline is the caller's plus the time the call took to reach it
  // (through the proxy), which the machine's load decides; rounding to milliseconds adds a little either way.
  const transit = call.receivedAt - started;
  const off = seenMs - deadline;
  t.ok(off >= -50, `the upstream deadline is not earlier than the caller's (off by ${off} ms)`);
  t.ok(
    off <= transit + 50,
    `the upstream deadline is the caller's plus at most the transit (off by ${off} ms, transit ${transit} ms)`,
  );
});

t.test('an upstream that ignores grpc-timeout: the proxy answers DEADLINE_EXCEEDED and cancels it', async (t) => {
  const pki = makeTestPki();
  // Never answers /silent; answers headers then stalls on /stall.
  const upstream = await startRawH2cUpstream((stream, headers) => {
    if (headers[':path'] === '/shop.v1.Orders/Stall')
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.resume();
  });
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const started = Date.now();
  const silent = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Orders/Silent',
    headers: { 'grpc-timeout': '300m' },
    body: frameOrderRequest('a'),
    timeoutMs: 5000,
  });
  const took = Date.now() - started;
  t.ok(took >= 290 && took < 2000, `answered after the deadline (${took} ms)`);
  t.ok(silent.endStreamOnHeaders, 'trailers-only, one frame');
  t.equal(silent.headers['grpc-status'], '4');
  t.equal(upstream.streams[0]?.headers['grpc-timeout'], '300m', 'the upstream was told the deadline');
  t.ok(await waitFor(() => upstream.streams[0]?.closedWith !== undefined), 'upstream stream closed');
  t.equal(upstream.streams[0]?.closedWith, http2.constants.NGHTTP2_CANCEL, 'with RST_STREAM CANCEL');

  const stall = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Orders/Stall',
    headers: { 'grpc-timeout': '300m' },
    body: frameOrderRequest('a'),
    timeoutMs: 5000,
  });
  t.notOk(stall.endStreamOnHeaders, 'headers went out first');
  t.equal(stall.trailers?.['grpc-status'], '4', 'then DEADLINE_EXCEEDED in trailers');
  t.ok(await waitFor(() => upstream.streams[1]?.closedWith !== undefined));
  t.equal(upstream.streams[1]?.closedWith, http2.constants.NGHTTP2_CANCEL);

  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.same(
    access.map((l) => [l.grpcStatus, l.reason]),
    [
      [4, 'timeout'],
      [4, 'timeout'],
    ],
  );
});
