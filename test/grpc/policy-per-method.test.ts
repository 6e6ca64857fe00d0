// Per-route policy over gRPC paths: one method admitted, another refused with PERMISSION_DENIED in one frame, the
// upstream untouched.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { makeLeaf } from '../helpers/pki.js';
import { baseConfig, makeTestPki, metricValue, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, collectStream, connectShop, startGrpcUpstream } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall } from './lib/raw-h2.js';

t.test('a method admitted, its service and another service refused', async (t) => {
  const pki = makeTestPki();
  const upstream = await startGrpcUpstream();
  const policy = join(pki.dir, 'policy.yaml');
  writeFileSync(
    policy,
    [
      'routes:',
      '  - path: /shop.v1.Orders/GetOrder', // exactly one method, for the prod callers
      '    allow:',
      '      - uri: spiffe://example.org/ns/prod/*',
      '  - path: /shop.v1.Orders*', // the rest of the service: ops only
      '    allow:',
      '      - uri: spiffe://example.org/ns/ops/sa/console',
      '  - path: /shop.v1.Admin/Purge',
      '    allow:',
      '      - uri: spiffe://example.org/ns/ops/sa/console',
      'default:',
      '  allow:',
      '    - uri: spiffe://example.org/ns/prod/*',
      '',
    ].join('\n'),
  );
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, {
      policy,
      allow: { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] },
    }),
  );
  const shop = connectShop(proxy.port, pki);
  const console = makeLeaf(pki.dir, 'console', pki.ca, { san: ['URI:spiffe://example.org/ns/ops/sa/console'] });
  const opsShop = connectShop(proxy.port, pki, console);
  t.teardown(async () => {
    shop.close();
    opsShop.close();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  const allowed = await callUnary(shop.orders, 'GetOrder', { id: 'a' });
  t.equal(allowed.status.code, grpc.status.OK, 'GetOrder admitted for the prod caller');

  const watch = await collectStream(
    (shop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<unknown>).call(shop.orders, {
      count: 1,
      gap_ms: 1,
    }),
  );
  t.equal(watch.status.code, grpc.status.PERMISSION_DENIED, 'another method of the same service refused');
  t.equal(watch.items.length, 0);
  const purge = await callUnary(shop.admin, 'Purge', { id: 'a' });
  t.equal(purge.status.code, grpc.status.PERMISSION_DENIED, 'another service refused');
  t.equal(purge.status.details, 'forbidden by mtls-sidecar');
  t.same(
    upstream.calls.map((c) => c.method),
    ['GetOrder'],
    'the upstream saw only the admitted call',
  );

  const opsWatch = await collectStream(
    (opsShop.orders.WatchOrders as (r: unknown) => grpc.ClientReadableStream<unknown>).call(opsShop.orders, {
      count: 1,
      gap_ms: 1,
    }),
  );
  t.equal(opsWatch.status.code, grpc.status.OK, 'the ops console may watch');
  const opsGet = await callUnary(opsShop.orders, 'GetOrder', { id: 'a' });
  t.equal(opsGet.status.code, grpc.status.PERMISSION_DENIED, 'the first matching route decides: GetOrder is prod-only');

  // On the wire: HTTP 200, one HEADERS frame with END_STREAM, the status and the request id, no body.
  const raw = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Admin/Purge',
    headers: { 'x-request-id': 'grpc-denied-1' },
    body: frameOrderRequest('a'),
  });
  t.ok(raw.endStreamOnHeaders, 'trailers-only: a single frame');
  t.equal(raw.headers[':status'], 200);
  t.equal(raw.headers['content-type'], 'application/grpc');
  t.equal(raw.headers['grpc-status'], '7');
  t.equal(raw.headers['x-request-id'], 'grpc-denied-1');
  t.equal(raw.body.length, 0, 'no JSON body');

  // The policy judges the normalized path: a dot-segment or escape cannot reach a refused method.
  const sneaky = await rawGrpcCall(proxy.port, pki, {
    path: '/shop.v1.Orders/GetOrder/../WatchOrders',
    body: frameOrderRequest('a'),
  });
  t.equal(sneaky.headers['grpc-status'], '7');
  const escaped = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.%41dmin/Purge', body: frameOrderRequest('a') });
  t.equal(escaped.headers['grpc-status'], '7');
  const bad = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders%2FGetOrder', body: frameOrderRequest('a') });
  t.ok(bad.endStreamOnHeaders);
  t.equal(bad.headers['grpc-status'], '3', 'an unsafe path is INVALID_ARGUMENT');
  t.equal(upstream.calls.length, 2, 'still only the two admitted calls');

  const access = proxy.logLines().filter((l) => l.msg === 'access');
  const denied = access.find((l) => l.requestId === 'grpc-denied-1');
  t.match(denied, { decision: 'deny', status: 200, grpcStatus: 7, path: '/shop.v1.Admin/Purge' });
  t.equal(await metricValue(proxy, 'mtls_sidecar_grpc_calls_total', { grpc_code: 'PERMISSION_DENIED' }), 6);
  t.equal(await metricValue(proxy, 'mtls_sidecar_grpc_calls_total', { grpc_code: 'OK' }), 2);
  t.equal(await metricValue(proxy, 'mtls_sidecar_grpc_calls_total', { grpc_code: 'INVALID_ARGUMENT' }), 1);
});
