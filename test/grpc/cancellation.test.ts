// Cancellation both ways: a caller's cancel resets the upstream stream with CANCEL; an upstream reset or loss reaches
// the caller.
import t from 'tap';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, collectStream, waitFor, type Order, startGrpcStack } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall, startRawH2cUpstream } from './lib/raw-h2.js';

t.test('caller cancels: the upstream handler sees the call cancelled', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t, {
    upstream: {
      orders: {
        GetOrder: () => undefined, // never answers: only a cancel can end it
      },
    },
  });

  const watch = (shop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<Order>).call(shop.orders, {
    count: 10_000,
    gap_ms: 10,
  });
  const collected = collectStream(watch);
  let received = 0;
  watch.on('data', () => {
    received += 1;
    if (received === 3) watch.cancel();
  });
  const result = await collected;
  t.equal(result.status.code, grpc.status.CANCELLED);
  t.ok(await waitFor(() => upstream.calls[0]?.cancelled === true), 'server stream: upstream call emitted cancelled');

  const unary = (shop.orders.GetOrder as (r: unknown, cb: () => void) => grpc.ClientUnaryCall).call(
    shop.orders,
    { id: 'hang' },
    () => undefined,
  );
  t.ok(await waitFor(() => upstream.calls.length === 2), 'the unary call reached the upstream');
  unary.cancel();
  t.ok(await waitFor(() => upstream.calls[1]?.cancelled === true), 'unary: upstream call emitted cancelled');
  t.ok(await waitFor(() => proxy.logLines().filter((l) => l.msg === 'access').length === 2));
  t.same(
    proxy
      .logLines()
      .filter((l) => l.msg === 'access')
      .map((l) => l.grpcStatus),
    [1, 1],
    'logged as CANCELLED',
  );
});

t.test('upstream resets or goes away: the caller sees it', async (t) => {
  const pki = makeTestPki();
  const raw = await startRawH2cUpstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const code =
      headers[':path'] === '/shop.v1.Orders/Cancel'
        ? http2.constants.NGHTTP2_CANCEL
        : http2.constants.NGHTTP2_INTERNAL_ERROR;
    setTimeout(() => stream.close(code), 50);
  });
  const proxy = await startTestProxy(baseConfig(pki, raw.url));
  t.teardown(async () => {
    await proxy.close(100);
    await raw.close();
    pki.cleanup();
  });
  const cancelled = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/Cancel', keepOpen: true });
  t.equal(cancelled.rstCode, http2.constants.NGHTTP2_CANCEL, 'upstream RST_STREAM CANCEL passed on');
  const internal = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/Boom', keepOpen: true });
  t.equal(internal.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, 'upstream RST_STREAM INTERNAL_ERROR passed on');
});

t.test('upstream lost in the middle of a stream: UNAVAILABLE in trailers', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t);
  const watch = (shop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<Order>).call(shop.orders, {
    count: 10_000,
    gap_ms: 10,
  });
  const collected = collectStream(watch);
  let received = 0;
  watch.on('data', () => {
    received += 1;
    if (received === 3) upstream.server.forceShutdown();
  });
  const result = await collected;
  t.equal(result.status.code, grpc.status.UNAVAILABLE);
  t.equal(result.status.details, 'upstream unavailable');
  t.ok(result.items.length >= 3, 'messages before the loss were delivered');
  const raw = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/GetOrder', body: frameOrderRequest('a') });
  t.ok(raw.endStreamOnHeaders, 'the next call: trailers-only');
  t.equal(raw.headers['grpc-status'], '14', 'UNAVAILABLE while the upstream is gone');
  void callUnary;
});
