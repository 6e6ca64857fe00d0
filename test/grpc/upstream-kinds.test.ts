// The gRPC upstream over verified TLS (h2 by ALPN, checked against --upstream-ca) and over a unix socket (h2c).
import t from 'tap';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { baseConfig, makeTestPki, metricValue, startTestProxy } from '../helpers/gate-harness.js';
import { makeCa, makeLeaf } from '../helpers/pki.js';
import { callUnary, connectShop, startGrpcStack, startGrpcUpstream } from './lib/grpc-harness.js';

t.test('https upstream: verified against --upstream-ca', async (t) => {
  const pki = makeTestPki();
  const upstreamCa = makeCa(pki.dir, 'Upstream CA');
  const otherCa = makeCa(pki.dir, 'Other CA');
  const good = makeLeaf(pki.dir, 'upstream', upstreamCa, {
    subject: '/CN=upstream',
    san: ['IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const wrongName = makeLeaf(pki.dir, 'wrong-name', upstreamCa, {
    subject: '/CN=elsewhere',
    san: ['DNS:elsewhere.example'],
    eku: 'serverAuth',
  });
  const tlsCreds = (leaf: typeof good): grpc.ServerCredentials =>
    grpc.ServerCredentials.createSsl(
      null,
      [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }],
      false,
    );
  const verified = await startGrpcUpstream({ credentials: tlsCreds(good) });
  const misnamed = await startGrpcUpstream({ credentials: tlsCreds(wrongName) });
  const proxyOk = await startTestProxy(
    baseConfig(pki, `https://127.0.0.1:${verified.port}`, { upstreamCa: upstreamCa.cert }),
  );
  const proxyWrongCa = await startTestProxy(
    baseConfig(pki, `https://127.0.0.1:${verified.port}`, { upstreamCa: otherCa.cert }),
  );
  const proxyWrongName = await startTestProxy(
    baseConfig(pki, `https://127.0.0.1:${misnamed.port}`, { upstreamCa: upstreamCa.cert }),
  );
  const clients = [
    connectShop(proxyOk.port, pki),
    connectShop(proxyWrongCa.port, pki),
    connectShop(proxyWrongName.port, pki),
  ];
  t.teardown(async () => {
    for (const c of clients) c.close();
    for (const p of [proxyOk, proxyWrongCa, proxyWrongName]) await p.close(100);
    await verified.close();
    await misnamed.close();
    pki.cleanup();
  });
  const [ok, wrongCa, wrongHost] = clients as [
    ReturnType<typeof connectShop>,
    ReturnType<typeof connectShop>,
    ReturnType<typeof connectShop>,
  ];

  const res = await callUnary(ok.orders, 'GetOrder', { id: 'tls' });
  t.equal(res.status.code, grpc.status.OK, 'h2 over TLS to a verified upstream');
  t.equal(verified.calls.length, 1);
  t.same(verified.calls[0]!.metadata.get('x-client-cn'), ['orders']);

  const untrusted = await callUnary(wrongCa.orders, 'GetOrder', { id: 'tls' });
  t.equal(untrusted.status.code, grpc.status.UNAVAILABLE, 'an upstream certificate from another CA is refused');
  t.equal(await metricValue(proxyWrongCa, 'mtls_sidecar_upstream_errors_total', { reason: 'tls' }), 1);
  const misnamedRes = await callUnary(wrongHost.orders, 'GetOrder', { id: 'tls' });
  t.equal(misnamedRes.status.code, grpc.status.UNAVAILABLE, 'an upstream certificate for another name is refused');
  t.equal(await metricValue(proxyWrongName, 'mtls_sidecar_upstream_errors_total', { reason: 'tls' }), 1);
  t.equal(verified.calls.length, 1, 'the refused sessions carried no call');
  t.equal(misnamed.calls.length, 0);
});

t.test('unix socket upstream: h2c', async (t) => {
  const { upstream, shop } = await startGrpcStack(t, (pki) => {
    const socketPath = join(pki.dir, 'grpc.sock');
    return {
      upstream: { address: `unix:${socketPath}` },
      config: { upstream: { kind: 'unix', socketPath, origin: `unix:${socketPath}` } },
    };
  });
  const res = await callUnary(shop.orders, 'GetOrder', { id: 'unix' });
  t.equal(res.status.code, grpc.status.OK);
  t.same(upstream.calls[0]!.metadata.get('x-client-subject'), ['CN=orders,OU=payments,O=Acme']);
});
