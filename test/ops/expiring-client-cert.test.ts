// A caller whose certificate expires within 7 days is logged once (not per connection) and lands in the
// client_certificate_remaining_seconds histogram, read here from /metrics over HTTP.
import t from 'tap';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { httpsRequest, startGateStack } from '../helpers/gate-harness.js';
import { opsGet, sampleValue } from './lib/cli-process.js';

t.test('expiring caller certificates', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { metricsListen: { host: '127.0.0.1', port: 0 } });
  const soon = makeLeaf(pki.dir, 'soon', pki.ca, {
    subject: '/CN=soon',
    san: ['URI:spiffe://example.org/ns/prod/sa/soon'],
    days: 3,
  });
  const remaining =
    (Date.parse(
      openssl(['x509', '-noout', '-enddate', '-in', soon.cert])
        .trim()
        .replace(/^notAfter=/, ''),
    ) -
      Date.now()) /
    1000;
  t.ok(remaining > 86_400 && remaining < 604_800, 'openssl says: between one and seven days left');

  for (let i = 0; i < 3; i++) {
    const res = await httpsRequest({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: soon.certPem,
      key: soon.keyPem,
      path: '/x',
    });
    t.equal(res.status, 200, 'still admitted: expiring is not expired');
  }
  const res = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/x',
  });
  t.equal(res.status, 200);

  const warnings = proxy.logLines().filter((l) => l.msg === 'caller certificate expires within 7 days');
  t.equal(warnings.length, 1, 'logged once for three connections');
  t.equal(warnings[0]?.subject, 'CN=soon');
  t.notMatch(JSON.stringify(warnings), /BEGIN/);

  const text = (await opsGet(proxy.metricsAddress?.port ?? 0, '/metrics')).body;
  const bucket = (le: string) => sampleValue(text, 'mtls_sidecar_client_certificate_remaining_seconds_bucket', { le });
  t.equal(
    sampleValue(text, 'mtls_sidecar_client_certificate_remaining_seconds_count'),
    4,
    'one observation per connection',
  );
  t.equal(bucket('86400'), 0, 'none with less than a day left');
  t.equal(bucket('604800'), 3, 'the three expiring connections are under seven days');
  t.equal(bucket('2592000'), 4, 'the 30-day caller falls in the 30-day bucket');
});
