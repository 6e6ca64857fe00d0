// Unary, server-, client- and bidirectional-streaming gRPC calls pass through the mTLS listener to an h2c upstream
// intact.
import t from 'tap';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { callUnary, collectStream, type Order, startGrpcStack } from './lib/grpc-harness.js';

t.test('every call kind, through the proxy', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t);

  const unary = await callUnary<Order>(shop.orders, 'GetOrder', { id: 'o-1' });
  t.equal(unary.status.code, grpc.status.OK);
  t.equal(unary.value?.note, 'order o-1');

  // 3 MiB response message: larger than any HTTP/2 window, so flow control is exercised both hops.
  const big = await callUnary<Order>(shop.orders, 'GetOrder', { id: `big-${3 * 1024 * 1024}` }, {}); // default max receive is 4 MiB
  t.equal(big.status.code, grpc.status.OK);
  t.equal(big.value?.payload.length, 3 * 1024 * 1024);
  t.ok(
    big.value?.payload.every((b) => b === 7),
    'payload bytes intact',
  );

  const watch = await collectStream<Order>(
    (shop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<Order>).call(shop.orders, {
      count: 5,
      gap_ms: 5,
    }),
  );
  t.equal(watch.status.code, grpc.status.OK);
  t.same(
    watch.items.map((o) => o.id),
    ['0', '1', '2', '3', '4'],
    'server stream: every message, in order',
  );

  const sent: Buffer[] = [];
  const summary = await new Promise<{ count: number; bytes: number }>((resolve, reject) => {
    const call = (
      shop.orders.UploadOrders as (
        cb: (e: grpc.ServiceError | null, v?: { count: number; bytes: number }) => void,
      ) => grpc.ClientWritableStream<Partial<Order>>
    ).call(shop.orders, (err, value) => (err ? reject(err) : resolve(value!)));
    for (let i = 0; i < 20; i++) {
      const payload = Buffer.alloc(100_000 + i, i);
      sent.push(payload);
      call.write({ id: String(i), payload });
    }
    call.end();
  });
  t.same(
    summary,
    { count: 20, bytes: sent.reduce((n, b) => n + b.length, 0) },
    'client stream: the upstream counted every byte',
  );

  const chat = (shop.orders.Chat as () => grpc.ClientDuplexStream<Partial<Order>, Order>).call(shop.orders);
  const echoes: Order[] = [];
  const chatDone = new Promise<grpc.StatusObject>((resolve) => chat.on('status', resolve));
  chat.on('data', (o: Order) => echoes.push(o));
  // Ping-pong: each message is written only after the previous echo came back, so both directions interleave.
  for (let i = 0; i < 10; i++) {
    const payload = Buffer.from(createHash('sha256').update(String(i)).digest());
    chat.write({ id: String(i), note: `m${i}`, payload });
    const before = echoes.length;
    for (let w = 0; w < 200 && echoes.length === before; w++) await new Promise((r) => setTimeout(r, 5));
  }
  chat.end();
  const chatStatus = await chatDone;
  t.equal(chatStatus.code, grpc.status.OK);
  t.same(
    echoes.map((e) => e.note),
    Array.from({ length: 10 }, (_, i) => `echo m${i}`),
    'bidi: every echo, in order',
  );
  t.equal(echoes[3]?.payload.toString('hex'), createHash('sha256').update('3').digest('hex'));

  t.same(
    upstream.calls.map((c) => c.method),
    ['GetOrder', 'GetOrder', 'WatchOrders', 'UploadOrders', 'Chat'],
  );
});
