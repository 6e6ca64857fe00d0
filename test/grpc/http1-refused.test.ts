// gRPC needs HTTP/2: a gRPC content type over HTTP/1.1 gets 505 with the upstream untouched; grpc-web stays plain HTTP.
import t from 'tap';
import { baseConfig, makeTestPki, startGateStack, startTestProxy } from '../helpers/gate-harness.js';
import { curl } from '../protocols/lib/curl.js';
import { makeLeaf } from '../helpers/pki.js';
import { startGrpcUpstream } from './lib/grpc-harness.js';

t.test('application/grpc over HTTP/1.1: 505', async (t) => {
  const pki = makeTestPki();
  const upstream = await startGrpcUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/shop.v1.Orders/GetOrder',
    http1: true,
    headers: ['Content-Type: application/grpc+proto', 'TE: trailers', 'X-Request-Id: h1-grpc'],
    args: ['--data-binary', 'AAAAAAA='],
  });
  t.equal(res.httpVersion, '1.1');
  t.equal(res.status, 505);
  t.same(JSON.parse(res.body), { error: 'grpc_requires_http2', requestId: 'h1-grpc' });
  t.equal(upstream.calls.length, 0, 'the upstream saw nothing');
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.match(access[0], { status: 505, decision: 'allow', requestId: 'h1-grpc' });
  t.notOk('grpcStatus' in access[0]!, 'no gRPC status: this was never a gRPC call');

  // A refused caller over HTTP/1.1 still gets the ordinary 403 JSON: gRPC answers need HTTP/2 framing.
  const stranger = makeLeaf(pki.dir, 'stranger', pki.ca, { san: ['URI:spiffe://example.org/ns/dev/sa/x'] });
  const refused = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: stranger,
    path: '/shop.v1.Orders/GetOrder',
    http1: true,
    headers: ['Content-Type: application/grpc', 'X-Request-Id: h1-denied'],
    args: ['--data-binary', 'x'],
  });
  t.equal(refused.status, 403);
  t.same(JSON.parse(refused.body), { error: 'forbidden', requestId: 'h1-denied' });
});

t.test('grpc-web is plain HTTP: forwarded by the HTTP proxy path', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/shop.v1.Orders/GetOrder',
    http1: true,
    headers: ['Content-Type: application/grpc-web+proto'],
    args: ['--data-binary', 'AAAAAAA='],
  });
  t.equal(res.status, 200);
  t.equal(upstream.received.length, 1);
  t.equal(upstream.received[0]!.headers['content-type'], 'application/grpc-web+proto');
  t.equal(upstream.received[0]!.headers['x-client-subject'], 'CN=orders,OU=payments,O=Acme');
});
