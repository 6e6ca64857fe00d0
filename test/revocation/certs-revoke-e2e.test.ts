// The rotation recipe end to end, without openssl: certs init → certs crl → the proxy runs with --crl → add-client →
// the new client gets 200 → certs revoke the old one → the running proxy's reload refuses it at the handshake while
// the new client still gets 200, and the upstream never sees the revoked caller. curl is the client.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { startRecordingUpstream } from '../helpers/gate-harness.js';
import { makeTmpDir, removeDir } from '../helpers/pki.js';
import { cliMissing, opsGet, sampleValue, startCli, waitFor } from '../ops/lib/cli-process.js';
import { runCli } from '../devcerts/run-cli.js';

interface CurlResult {
  exitCode: number;
  status: string;
}

function curl(dir: string, client: string, port: number, path: string): Promise<CurlResult> {
  const args = [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '20',
    '--cacert',
    join(dir, 'ca.crt'),
    '--cert',
    join(dir, `${client}.crt`),
    '--key',
    join(dir, `${client}.key`),
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    `https://localhost:${port}${path}`,
  ];
  return new Promise((resolve) => {
    execFile('curl', args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout) => {
      resolve({ exitCode: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, status: stdout });
    });
  });
}

t.test('rotate a client with the proxy running', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('rotate-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  const uri = 'spiffe://example.org/ns/prod/sa/orders';
  t.equal(
    (
      await runCli([
        'certs',
        'init',
        dir,
        '--client',
        'orders',
        '--client',
        'billing',
        '--uri',
        `orders=${uri}`,
        '--uri',
        'billing=spiffe://example.org/ns/prod/sa/billing',
      ])
    ).code,
    0,
  );
  t.equal((await runCli(['certs', 'crl', dir])).code, 0, 'an empty CRL to start with');

  const upstream = await startRecordingUpstream();
  t.teardown(() => upstream.close());
  const proxy = await startCli([
    '--upstream',
    upstream.url,
    '--cert',
    join(dir, 'server.crt'),
    '--key',
    join(dir, 'server.key'),
    '--client-ca',
    join(dir, 'ca.crt'),
    '--crl',
    join(dir, 'crl.pem'),
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--reload-interval',
    '200ms',
  ]);
  t.teardown(() => proxy.stop());

  t.same(await curl(dir, 'orders', proxy.port, '/before'), { exitCode: 0, status: '200' }, 'old client admitted');
  const added = await runCli(['certs', 'add-client', dir, 'orders-2', '--uri', uri]);
  t.equal(added.code, 0, added.stderr);
  t.same(
    await curl(dir, 'orders-2', proxy.port, '/new'),
    { exitCode: 0, status: '200' },
    'new client admitted, no proxy restart',
  );

  const revoked = await runCli(['certs', 'revoke', dir, 'orders']);
  t.equal(revoked.code, 0, revoked.stderr);
  const reloaded = await waitFor(
    async () =>
      sampleValue((await opsGet(proxy.metricsPort, '/metrics')).body, 'mtls_sidecar_reloads_total', {
        result: 'success',
      }) >= 1,
    30_000,
    100,
  );
  t.ok(reloaded, 'the proxy reloaded the new crl.pem');

  const before = upstream.received.length;
  const refused = await curl(dir, 'orders', proxy.port, '/after-revoke');
  t.not(refused.exitCode, 0, `curl fails for the revoked client (exit ${refused.exitCode})`);
  t.not(refused.status, '200');
  t.equal(upstream.received.length, before, 'the upstream saw nothing from the revoked client');
  const metrics = (await opsGet(proxy.metricsPort, '/metrics')).body;
  t.equal(
    sampleValue(metrics, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }),
    1,
    'counted as revoked',
  );

  t.same(
    await curl(dir, 'orders-2', proxy.port, '/still'),
    { exitCode: 0, status: '200' },
    'the new client still admitted',
  );
  t.same(await curl(dir, 'billing', proxy.port, '/other'), { exitCode: 0, status: '200' }, 'other clients unaffected');
  t.same(
    upstream.received.map((r) => r.url),
    ['/before', '/new', '/still', '/other'],
  );
});
