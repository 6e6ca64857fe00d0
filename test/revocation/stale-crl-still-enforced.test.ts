// A CRL past its nextUpdate keeps being enforced, with one warning and crl_next_update_seconds{issuer}; a CRL
// that goes stale while the proxy runs is warned about too, without any file change.
import t from 'tap';
import { makeCrl } from '../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { opensslNextUpdate } from './lib/crl-tools.js';

const REQUEST = 'GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n';
const STALE = 'CRL is past its nextUpdate; still enforcing it; publish a fresh CRL';

t.test('stale at start', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const crl = makeCrl(pki.dir, pki.ca, [pki.client], { nextUpdateHours: -2 });
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { crl: [crl], reloadIntervalMs: 100 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: REQUEST,
  });
  t.equal(result.received, '', 'the revoked caller is still refused');
  t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }), 1);
  t.equal(upstream.received.length, 0);
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_crl_next_update_seconds', { issuer: 'CN=Test Root CA' }),
    opensslNextUpdate(crl).getTime() / 1000,
    'crl_next_update_seconds equals openssl -nextupdate',
  );
  // A negative check over four reload ticks (100 ms each): a warning logged on every tick would show here.
  await new Promise((r) => setTimeout(r, 400));
  const warnings = proxy.logLines().filter((l) => l.msg === STALE);
  t.equal(warnings.length, 1, 'warned once, not on every reload tick');
  t.equal(warnings[0]?.issuer, 'CN=Test Root CA');
});

t.test('goes stale while running', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const crl = makeCrl(pki.dir, pki.ca, [], { nextUpdateHours: 1.5 / 3600 });
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { crl: [crl], reloadIntervalMs: 100 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  t.equal(proxy.logLines().filter((l) => l.msg === STALE).length, 0, 'fresh at start');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !proxy.logLines().some((l) => l.msg === STALE))
    await new Promise((r) => setTimeout(r, 100));
  t.equal(proxy.logLines().filter((l) => l.msg === STALE).length, 1, 'warned once it passed nextUpdate');
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' }),
    0,
    'no reload was needed for that',
  );
});
