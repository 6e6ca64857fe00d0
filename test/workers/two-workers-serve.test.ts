// --workers 2: two worker processes under the primary share the mTLS listener (both serve new connections),
// /readyz is 200, and the primary's /metrics adds the workers' counters up while expiry and posture gauges stay facts.
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { openssl } from '../helpers/pki.js';
import { cliMissing, proxyArgs, opsGet, sampleValue, startCli, waitFor } from '../ops/lib/cli-process.js';
import { childPids } from './lib/processes.js';

const REQUESTS = 50;

t.test('two workers serve, one aggregated /metrics', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const cli = await startCli([
    ...proxyArgs(pki, upstream.url),
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--workers',
    '2',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const primary = cli.child.pid as number;
  t.ok(
    await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 200, 20_000),
    '/readyz 200 once both workers are up',
  );
  const workers = childPids(primary);
  t.equal(workers.length, 2, `two worker processes under the primary (${workers.join(', ')})`);

  const statuses: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    // agent: false, so every request is a new connection for the primary to hand to a worker.
    const res = await httpsRequest({
      port: cli.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      path: `/n/${i}`,
    });
    statuses.push(res.status);
  }
  t.same(statuses, Array(REQUESTS).fill(200), 'every request answered 200');
  t.equal(upstream.received.length, REQUESTS, 'the upstream received each request once');
  t.ok(
    await waitFor(() => cli.lines().filter((l) => l.msg === 'access').length >= REQUESTS, 5000),
    'one access line per request',
  );
  const servedBy = new Set(
    cli
      .lines()
      .filter((l) => l.msg === 'access')
      .map((l) => Number(l.pid)),
  );
  t.equal(servedBy.size, 2, `two distinct pids served (${[...servedBy].join(', ')})`);
  t.ok(
    [...servedBy].every((pid) => workers.includes(pid)),
    'the serving pids are the worker processes, not the primary',
  );

  let text = '';
  t.ok(
    await waitFor(async () => {
      text = (await opsGet(cli.metricsPort, '/metrics')).body;
      return sampleValue(text, 'mtls_sidecar_requests_total', { method: 'GET', code: '200' }) === REQUESTS;
    }, 5000),
    `requests_total{GET,200} sums both workers to ${REQUESTS} (last: ${sampleValue(text, 'mtls_sidecar_requests_total', { method: 'GET', code: '200' })})`,
  );
  t.equal(
    sampleValue(text, 'mtls_sidecar_authz_decisions_total', { decision: 'allow' }),
    REQUESTS,
    'authz decisions summed too',
  );
  // Expiry and findings are facts, not per-process counts: each appears once with its own value.
  const notAfter = openssl(['x509', '-noout', '-enddate', '-in', pki.server.cert])
    .trim()
    .replace(/^notAfter=/, '');
  const serverSample = text
    .split('\n')
    .find((l) => l.startsWith('mtls_sidecar_certificate_not_after_seconds{role="server"'));
  t.ok(serverSample, 'the server certificate expiry is exported');
  t.equal(
    Number(serverSample?.split(' ').pop()),
    Date.parse(notAfter) / 1000,
    'its value is the certificate notAfter (openssl), not a sum over workers',
  );
  const findings = text.split('\n').filter((l) => l.startsWith('mtls_sidecar_posture_finding{'));
  t.ok(findings.length > 0, 'posture findings are exported (this test runs with --allow-insecure-posture)');
  t.ok(
    findings.every((l) => l.endsWith(' 1')),
    'each finding reads 1, not the number of processes',
  );
  t.match(text, /^mtls_sidecar_process_resident_memory_bytes \d+/m, "the workers' default process metrics are there");
  t.equal(
    cli.lines().filter((l) => l.msg === 'metrics and probes listening').length,
    1,
    'only the primary binds --metrics-listen',
  );
  t.ok(
    cli
      .lines()
      .filter((l) => String(l.msg).startsWith('posture '))
      .every((l) => l.pid === primary),
    'posture is reported by the primary alone',
  );
});
