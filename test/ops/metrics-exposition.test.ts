// /metrics passes `promtool check metrics` (no gauge named like a counter), single process and --workers; the
// certificate gauge's role label is spelled as the README and `check --json` spell it (`client-ca`).
import { spawnSync } from 'node:child_process';
import t from 'tap';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainPem, makeCa, makeLeaf, openssl } from '../helpers/pki.js';
import { runCli } from '../config/fixtures.js';
import { cliMissing, proxyArgs, opsGet, sampleValue, startCli } from './lib/cli-process.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const noPromtool = promtool ? false : 'promtool not installed (Debian package prometheus)';

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

t.test('single process', async (t) => {
  const pki = makeTestPki();
  // A server chain (leaf + intermediate), so every role value is exported.
  const intermediate = makeCa(pki.dir, 'Server Intermediate', { issuer: pki.ca });
  const leaf = makeLeaf(pki.dir, 'chained-server', intermediate, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const chainFile = join(pki.dir, 'server-chain.pem');
  writeFileSync(chainFile, chainPem(leaf, intermediate));
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, { cert: chainFile, key: leaf.key, metricsListen: { host: '127.0.0.1', port: 0 } }),
  );
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const r = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/x',
  });
  t.equal(r.status, 200);
  const text = (await opsGet(proxy.metricsAddress?.port ?? 0, '/metrics')).body;

  t.notMatch(text, /^mtls_sidecar_nodejs_active_(handles|requests|resources)_total /m, 'no gauge with a _total suffix');
  t.match(text, /^mtls_sidecar_nodejs_active_handles\{/m, 'the per-type gauges stay');
  t.match(text, /^mtls_sidecar_process_cpu_seconds_total /m, 'other default process metrics stay');

  const caNotAfter =
    Date.parse(openssl(['x509', '-in', pki.ca.cert, '-noout', '-enddate']).trim().replace('notAfter=', '')) / 1000;
  t.equal(
    sampleValue(text, 'mtls_sidecar_certificate_not_after_seconds', { role: 'client-ca' }),
    caNotAfter,
    'role="client-ca"',
  );
  const exported = [
    ...new Set([...text.matchAll(/^mtls_sidecar_certificate_not_after_seconds\{role="([^"]+)"/gm)].map((m) => m[1])),
  ].sort();
  const check = runCli([
    'check',
    '--json',
    '--upstream',
    upstream.url,
    '--cert',
    chainFile,
    '--key',
    leaf.key,
    '--client-ca',
    pki.ca.cert,
    '--allow-cn',
    'orders',
    '--allow-insecure-posture',
  ]);
  const roles = [
    ...new Set((JSON.parse(check.stdout) as { certificates: Array<{ role: string }> }).certificates.map((c) => c.role)),
  ].sort();
  t.same(exported, ['client-ca', 'server', 'server-chain'], 'every role exported');
  t.same(exported, roles, 'spelled as check --json spells them');

  t.test('promtool check metrics', { skip: noPromtool }, async (t) => {
    const r = promtoolCheck(text);
    t.equal(r.status, 0, r.output);
    t.equal(r.output.trim(), '', 'no lint findings');
  });
});

t.test('--workers 2 (aggregated by the primary)', { skip: cliMissing() || noPromtool }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const cli = await startCli(['--workers', '2', ...proxyArgs(pki, upstream.url), '--allow-cn', 'orders']);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const text = (await opsGet(cli.metricsPort, '/metrics')).body;
  t.match(text, /mtls_sidecar_requests_total|mtls_sidecar_active_connections/);
  const r = promtoolCheck(text);
  t.equal(r.status, 0, r.output);
});
