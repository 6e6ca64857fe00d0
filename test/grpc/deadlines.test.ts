// grpc-timeout reaches the upstream, and when the upstream ignores it the proxy ends the call with DEADLINE_EXCEEDED and cancels upstream.
import t from 'tap';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, waitFor, startGrpcStack } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall, startRawH2cUpstream } from './lib/raw-h2.js';

t.test('the caller deadline is the upstream deadline', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t, { upstream: {
    orders: {
      GetOrder: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        setTimeout(() => cb(null, { id: 'late' }), 1500);
      },
    },
  } });
  const deadline = Date.now() + 400;
  const started = Date.now();
  const res = await callUnary(shop.orders, 'GetOrder', { id: 'x' }, { deadline });
  t.equal(res.status.code, grpc.status.DEADLINE_EXCEEDED);
  t.ok(Date.now() - started < 1200, 'answered at the deadline, not when the upstream finished');
  const seen = upstream.calls[0]!.deadline;
  const seenMs = seen instanceof Date ? seen.getTime() : Number(seen);
  t.ok(Math.abs(seenMs - deadline) < 150, `upstream deadline within 150 ms of the caller's (off by ${seenMs - deadline} ms)`);
});

t.test('an upstream that ignores grpc-timeout: the proxy answers DEADLINE_EXCEEDED and cancels it', async (t) => {
  const pki = makeTestPki();
  // Never answers /silent; answers headers then stalls on /stall.
  const upstream = await startRawH2cUpstream((stream, headers) => {
    if (headers[':path'] === '/shop.v1.Orders/Stall') stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.resume();
  });
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const started = Date.now();
  const silent = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/Silent', headers: { 'grpc-timeout': '300m' }, body: frameOrderRequest('a'), timeoutMs: 5000 });
  const took = Date.now() - started;
  t.ok(took >= 290 && took < 2000, `answered after the deadline (${took} ms)`);
  t.ok(silent.endStreamOnHeaders, 'trailers-only, one frame');
  t.equal(silent.headers['grpc-status'], '4');
  t.equal(upstream.streams[0]?.headers['grpc-timeout'], '300m', 'the upstream was told the deadline');
  t.ok(await waitFor(() => upstream.streams[0]?.closedWith !== undefined), 'upstream stream closed');
  t.equal(upstream.streams[0]?.closedWith, http2.constants.NGHTTP2_CANCEL, 'with RST_STREAM CANCEL');

  const stall = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/Stall', headers: { 'grpc-timeout': '300m' }, body: frameOrderRequest('a'), timeoutMs: 5000 });
  t.notOk(stall.endStreamOnHeaders, 'headers went out first');
  t.equal(stall.trailers?.['grpc-status'], '4', 'then DEADLINE_EXCEEDED in trailers');
  t.ok(await waitFor(() => upstream.streams[1]?.closedWith !== undefined));
  t.equal(upstream.streams[1]?.closedWith, http2.constants.NGHTTP2_CANCEL);

  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.same(access.map((l) => [l.grpcStatus, l.reason]), [[4, 'timeout'], [4, 'timeout']]);
});
