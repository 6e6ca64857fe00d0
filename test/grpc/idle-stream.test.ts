// A server stream quiet for longer than --idle-timeout is not cut by the proxy, on either hop.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { callUnary, collectStream, type Order, startGrpcStack } from './lib/grpc-harness.js';

t.test('quiet stream outlives the idle timeout', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t, {
    config: { idleTimeoutMs: 1000, headersTimeoutMs: 1000, upstreamTimeoutMs: 1000 },
  });
  // Two messages, each after 2.5 s of silence: no headers, no data, no frames at all before the first one.
  const started = Date.now();
  const watch = await collectStream(
    (shop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<Order>).call(shop.orders, {
      count: 2,
      gap_ms: 2500,
    }),
  );
  t.equal(watch.status.code, grpc.status.OK);
  t.same(
    watch.items.map((o) => o.id),
    ['0', '1'],
  );
  t.ok(Date.now() - started >= 5000, 'the call really was quiet that long');
  const after = await callUnary(shop.orders, 'GetOrder', { id: 'after' });
  t.equal(after.status.code, grpc.status.OK, 'and the channel still works');
});
