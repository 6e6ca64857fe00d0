// A changed policy file takes effect for an already open keep-alive connection on its next request, and a broken
// policy file is refused while the old policy keeps deciding.
import { renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

const NO_FLAGS = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };

const ALLOW_ORDERS = `routes:
  - path: /orders
    allow:
      - uri: spiffe://example.org/ns/prod/sa/orders
default:
  allow:
    - cn: nobody
`;
const DENY_ORDERS = ALLOW_ORDERS.replace('sa/orders', 'sa/billing');

t.test('policy reload reaches open keep-alive connections', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const policyPath = join(pki.dir, 'policy.yaml');
  writeFileSync(policyPath, ALLOW_ORDERS);
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy: policyPath, reloadIntervalMs: 60_000 }),
  );
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(async () => {
    agent.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const get = () =>
    new Promise<{ status: number; reusedSocket: boolean; port: number }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.port,
          servername: 'localhost',
          path: '/orders',
          agent,
          ca: pki.ca.certPem,
          cert: pki.client.certPem,
          key: pki.client.keyPem,
        },
        (res) => {
          const port = res.socket.localPort ?? 0;
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reusedSocket: req.reusedSocket, port }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  const first = await get();
  t.equal(first.status, 200, 'allowed by the first policy');
  t.equal(upstream.received.length, 1);

  // Atomic replace, then the SIGHUP path (reload now) rather than waiting for the interval.
  writeFileSync(join(pki.dir, 'policy.new'), DENY_ORDERS);
  renameSync(join(pki.dir, 'policy.new'), policyPath);
  t.equal(proxy.reload('signal'), 'success');
  const second = await get();
  t.equal(second.reusedSocket, true, 'same connection');
  t.equal(second.port, first.port, 'same client port');
  t.equal(second.status, 403, 'the new policy denies on the open connection');
  t.equal(upstream.received.length, 1, 'the denied request never reached the upstream');

  // A broken policy file is refused; the current (denying) policy keeps deciding.
  writeFileSync(policyPath, 'routes: [ { path: 42 ');
  t.equal(proxy.reload('signal'), 'failure');
  t.equal(await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' }), 1);
  t.equal((await get()).status, 403);

  writeFileSync(policyPath, ALLOW_ORDERS);
  t.equal(proxy.reload('signal'), 'success');
  const back = await get();
  t.equal(back.status, 200, 'allowed again');
  t.equal(back.reusedSocket, true);
  t.equal(proxy.reload('signal'), 'unchanged', 'nothing changed: no reload');
  t.equal(await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' }), 2);
});
