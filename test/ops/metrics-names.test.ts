// /metrics over HTTP lists every metric name the README lists, and the handshake-failure counter grows by reason
// for a cert-less client, an unknown CA, an expired and a revoked certificate (the built CLI, real TLS).
import t from 'tap';
import { makeCa, makeCrl, makeLeaf } from '../helpers/pki.js';
import { makeTestPki, rawTlsExchange, startRecordingUpstream } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, opsGet, sampleValue, startCli, waitFor } from './lib/cli-process.js';

const REQUIRED = [
  'requests_total',
  'request_duration_seconds',
  'tls_handshake_failures_total',
  'authz_decisions_total',
  'upstream_errors_total',
  'active_connections',
  'certificate_not_after_seconds',
  'reloads_total',
  'posture_finding',
  'crl_next_update_seconds',
  'client_certificate_remaining_seconds',
  // a sample of the default process metrics
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
].map((n) => `mtls_sidecar_${n}`);

const REQUEST = 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n';

t.test('metrics listener', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const spiffe = ['URI:spiffe://example.org/ns/prod/sa/orders'];
  const revoked = makeLeaf(pki.dir, 'revoked', pki.ca, { san: spiffe });
  const crl = makeCrl(pki.dir, pki.ca, [revoked]);
  const cli = await startCli([
    ...proxyArgs(pki, upstream.url),
    '--crl',
    crl,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });

  t.test('every required name is exported, with the bounded labels initialised', async (t) => {
    const { status, body } = await opsGet(cli.metricsPort, '/metrics');
    t.equal(status, 200);
    for (const name of REQUIRED) t.match(body, new RegExp(`^# TYPE ${name} `, 'm'), `${name} present`);
    for (const reason of [
      'no_certificate',
      'unknown_ca',
      'expired',
      'not_yet_valid',
      'revoked',
      'bad_key_usage',
      'protocol',
      'other',
    ]) {
      t.match(body, `mtls_sidecar_tls_handshake_failures_total{reason="${reason}"} 0`);
    }
    t.match(body, 'mtls_sidecar_reloads_total{result="failure"} 0');
    t.match(body, /mtls_sidecar_certificate_not_after_seconds\{role="server",subject="CN=localhost"\} \d+/);
    t.match(body, /mtls_sidecar_crl_next_update_seconds\{issuer="CN=Test Root CA"\} \d+/);
    t.notMatch(body, /BEGIN|PRIVATE/, 'no key or certificate material');
  });

  const rogueCa = makeCa(pki.dir, 'Rogue CA');
  const cases = [
    { name: 'no client certificate', reason: 'no_certificate', cert: undefined },
    { name: 'unknown CA', reason: 'unknown_ca', cert: makeLeaf(pki.dir, 'rogue', rogueCa, { san: spiffe }) },
    {
      name: 'expired',
      reason: 'expired',
      cert: makeLeaf(pki.dir, 'expired', pki.ca, {
        san: spiffe,
        notBefore: '20200101000000Z',
        notAfter: '20210101000000Z',
      }),
    },
    { name: 'revoked', reason: 'revoked', cert: revoked },
  ];
  for (const c of cases) {
    t.test(`${c.name} counts as ${c.reason}`, async (t) => {
      const before = sampleValue(
        (await opsGet(cli.metricsPort, '/metrics')).body,
        'mtls_sidecar_tls_handshake_failures_total',
        { reason: c.reason },
      );
      const result = await rawTlsExchange({
        port: cli.port,
        ca: pki.ca.certPem,
        cert: c.cert?.certPem,
        key: c.cert?.keyPem,
        payload: REQUEST,
      });
      t.equal(result.received, '', 'no HTTP response');
      let after = before;
      await waitFor(async () => {
        after = sampleValue(
          (await opsGet(cli.metricsPort, '/metrics')).body,
          'mtls_sidecar_tls_handshake_failures_total',
          { reason: c.reason },
        );
        return after > before;
      }, 3000);
      t.equal(after - before, 1);
    });
  }

  t.test('an admitted request shows up in requests_total and the decision counter', async (t) => {
    const result = await rawTlsExchange({
      port: cli.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: `${REQUEST.slice(0, -2)}Connection: close\r\n\r\n`,
    });
    t.match(result.received, /^HTTP\/1\.1 200/);
    const body = (await opsGet(cli.metricsPort, '/metrics')).body;
    t.equal(sampleValue(body, 'mtls_sidecar_requests_total', { method: 'GET', code: '200' }), 1);
    t.equal(sampleValue(body, 'mtls_sidecar_authz_decisions_total', { decision: 'allow' }), 1);
    t.equal(upstream.received.length, 1, 'only the admitted request reached the upstream');
  });
});
