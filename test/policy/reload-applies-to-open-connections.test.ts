// A changed policy file takes effect on the next request of an already open keep-alive (HTTP/1.1) or HTTP/2
// connection; a broken one keeps the old policy.
import t from 'tap';
import https from 'node:https';
import http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { metricValue } from '../helpers/gate-harness.js';
import { startPolicyRig, SPIFFE_POLICY } from './lib/policy-proxy.js';

t.test('policy swap reaches open connections', async (t) => {
  const rig = await startPolicyRig();
  t.teardown(() => rig.close());
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const h1 = (path: string): Promise<{ status: number; port: number }> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: rig.proxy.port,
          servername: 'localhost',
          path,
          agent,
          ca: rig.pki.ca.certPem,
          cert: rig.orders.certPem,
          key: rig.orders.keyPem,
        },
        (res) => {
          const port = res.socket.localPort ?? 0;
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, port }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const session = http2.connect(`https://localhost:${rig.proxy.port}`, {
    host: '127.0.0.1',
    servername: 'localhost',
    ca: rig.pki.ca.certPem,
    cert: rig.orders.certPem,
    key: rig.orders.keyPem,
  });
  t.teardown(() => session.close());
  const h2 = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = session.request({ ':path': path });
      req.on('response', (headers) => resolve(Number(headers[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });

  const first = await h1('/orders');
  t.equal(first.status, 200);
  t.equal(await h2('/orders'), 200);

  // Now /orders is for ops only.
  writeFileSync(
    rig.policyFile,
    SPIFFE_POLICY.replace(
      'routes:\n',
      'routes:\n  - path: /orders\n    allow:\n      - uri: spiffe://example.org/ns/ops/sa/console\n',
    ),
  );
  t.equal(rig.proxy.reload('manual'), 'success');
  const second = await h1('/orders');
  t.equal(second.port, first.port, 'same keep-alive connection');
  t.equal(second.status, 403, 'HTTP/1.1: the next request is judged by the new policy');
  t.equal(await h2('/orders'), 403, 'HTTP/2: the next stream too');

  // A broken file is refused: the last good policy keeps serving, and a failed reload is counted.
  writeFileSync(rig.policyFile, 'routes:\n  - path: admin\n    allow: everyone\n');
  t.equal(rig.proxy.reload('manual'), 'failure');
  t.equal(await metricValue(rig.proxy, 'mtls_sidecar_reloads_total', { result: 'failure' }), 1);
  t.equal((await h1('/orders')).status, 403, 'still the new good policy');
  t.equal((await h1('/other')).status, 200);
  t.equal(rig.upstream.received.length, 3);
});
