// HTTP/2 requests are judged one by one like HTTP/1.1 ones: 403 with the upstream untouched, per stream on a shared
// connection.
import t from 'tap';
import http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLeaf } from '../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  startGateStack,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { curl } from './lib/curl.js';

t.test('refused HTTP/2 caller gets 403, upstream untouched', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const stranger = makeLeaf(pki.dir, 'stranger', pki.ca, { san: ['URI:spiffe://example.org/ns/production/sa/x'] });
  const res = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: stranger,
    path: '/orders',
    headers: ['X-Request-Id: h2-denied'],
    args: ['-X', 'POST', '--data-binary', 'payload'],
  });
  t.equal(res.httpVersion, '2');
  t.equal(res.status, 403);
  t.same(JSON.parse(res.body), { error: 'forbidden', requestId: 'h2-denied' });
  const bad = await curl({ port: proxy.port, ca: pki.ca.cert, client: pki.client, path: '/a/..;/admin' });
  t.equal(bad.status, 400, 'unsafe path refused over HTTP/2 too');
  t.equal(upstream.received.length, 0, 'upstream received nothing');
});

t.test('each stream of one HTTP/2 connection is judged on its own path', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const policy = join(pki.dir, 'policy.yaml');
  writeFileSync(policy, 'routes:\n  - path: /admin\n    allow:\n      - uri: spiffe://example.org/ns/ops/sa/console\n');
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { policy }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const session = http2.connect(`https://localhost:${proxy.port}`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  t.teardown(() => session.close());
  const ask = (path: string, extra: http2.OutgoingHttpHeaders = {}): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = session.request({ ':path': path, ...extra });
      req.on('response', (headers) => resolve(Number(headers[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });
  const statuses = await Promise.all(['/orders', '/admin/x', '/%61dmin', '/orders/2', '//admin'].map((p) => ask(p)));
  t.same(statuses, [200, 403, 403, 200, 403]);
  t.same(upstream.received.map((r) => r.url).sort(), ['/orders', '/orders/2']);
  // RFC 9113 §8.3.1: a Host header naming another authority than :authority makes the request malformed.
  t.equal(
    await ask('/orders', { ':authority': `localhost:${proxy.port}`, host: 'other.example' }),
    400,
    'Host differing from :authority refused',
  );
  t.equal(
    await ask('/orders', { ':authority': `localhost:${proxy.port}`, host: `LOCALHOST:${proxy.port}` }),
    200,
    'the same authority in another case is fine',
  );
  t.equal(upstream.received.length, 3);
  t.equal(await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'deny' }), 3);
});
