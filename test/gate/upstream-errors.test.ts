// Upstream failures answer with fixed bodies: 502 when it refuses or resets, 504 when it is too slow.
import t from 'tap';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

t.test('refused, reset and slow upstreams', async (t) => {
  const pki = makeTestPki();
  const client = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
  t.teardown(() => pki.cleanup());

  t.test('connection refused → 502', async (t) => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${port}`));
    t.teardown(() => proxy.close(100));
    const res = await httpsRequest({ port: proxy.port, ...client, headers: { 'x-request-id': 'r-502' } });
    t.equal(res.status, 502);
    t.same(JSON.parse(res.body), { error: 'bad_gateway', requestId: 'r-502' });
    t.equal(await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'refused' }), 1);
  });

  t.test('connection reset → 502 without upstream error text', async (t) => {
    const resetter = net.createServer((s) => s.on('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
    const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${(resetter.address() as AddressInfo).port}`));
    t.teardown(async () => {
      await proxy.close(100);
      resetter.close();
    });
    const res = await httpsRequest({ port: proxy.port, ...client, method: 'POST', body: 'x' });
    t.equal(res.status, 502);
    t.equal(JSON.parse(res.body).error, 'bad_gateway');
    t.notMatch(res.body, /ECONNRESET|socket|stack/i);
  });

  t.test('slow upstream → 504 at --upstream-timeout', async (t) => {
    const upstream = await startRecordingUpstream();
    upstream.handler = (_req, res) => setTimeout(() => res.end('late'), 1500);
    const proxy = await startTestProxy(baseConfig(pki, upstream.url, { upstreamTimeoutMs: 300 }));
    t.teardown(async () => {
      await proxy.close(100);
      await upstream.close();
    });
    const res = await httpsRequest({ port: proxy.port, ...client, headers: { 'x-request-id': 'r-504' } });
    t.equal(res.status, 504);
    t.same(JSON.parse(res.body), { error: 'upstream_timeout', requestId: 'r-504' });
    t.equal(await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'timeout' }), 1);
  });
});
