// An upstream that is down answers UNAVAILABLE in one frame; once it is back, the next call reconnects and succeeds.
import t from 'tap';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, metricValue, startTestProxy } from '../helpers/gate-harness.js';
import { callUnary, connectShop, startGrpcUpstream } from './lib/grpc-harness.js';
import { frameOrderRequest, rawGrpcCall } from './lib/raw-h2.js';

/** A port nothing listens on: bound, noted, released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('upstream down, then back', async (t) => {
  const pki = makeTestPki();
  const port = await freePort();
  const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${port}`));
  const shop = connectShop(proxy.port, pki);
  let upstream: Awaited<ReturnType<typeof startGrpcUpstream>> | undefined;
  t.teardown(async () => {
    shop.close();
    await proxy.close(100);
    await upstream?.close();
    pki.cleanup();
  });
  const down = await callUnary(shop.orders, 'GetOrder', { id: 'a' });
  t.equal(down.status.code, grpc.status.UNAVAILABLE);
  t.equal(down.status.details, 'upstream unavailable');
  const raw = await rawGrpcCall(proxy.port, pki, { path: '/shop.v1.Orders/GetOrder', body: frameOrderRequest('a') });
  t.ok(raw.endStreamOnHeaders, 'trailers-only, one frame');
  t.equal(raw.headers[':status'], 200);
  t.equal(raw.headers['grpc-status'], '14');
  t.equal(raw.body.length, 0);
  t.equal(await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'refused' }), 2);
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.match(access[0], { status: 200, grpcStatus: 14, reason: 'refused', decision: 'allow' });

  upstream = await startGrpcUpstream({ address: `127.0.0.1:${port}` });
  const up = await callUnary(shop.orders, 'GetOrder', { id: 'b' });
  t.equal(up.status.code, grpc.status.OK, 'a new upstream session is made for the next call');
  t.equal(upstream.calls.length, 1);
});
