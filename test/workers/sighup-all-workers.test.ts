// --workers 2: SIGHUP on the primary reaches every worker, so every new connection (whichever worker takes it)
// is served the swapped certificate; without the signal no worker reloads (the interval is 10 minutes).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeTestPki, startRecordingUpstream } from '../helpers/gate-harness.js';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { cliMissing, opsGet, startCli, waitFor } from '../ops/lib/cli-process.js';
import { childPids, servedSerial } from './lib/processes.js';

const PROBES = 12;

t.test('SIGHUP reloads every worker', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const certPath = join(pki.dir, 'live.crt');
  const keyPath = join(pki.dir, 'live.key');
  copyFileSync(pki.server.cert, certPath);
  copyFileSync(pki.server.key, keyPath);
  const cli = await startCli([
    '--upstream',
    upstream.url,
    '--cert',
    certPath,
    '--key',
    keyPath,
    '--client-ca',
    pki.ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--reload-interval',
    '10m',
    '--workers',
    '2',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  t.ok(await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 200, 20_000), 'ready');
  const workers = childPids(cli.child.pid as number);
  t.equal(workers.length, 2, 'two workers');

  const oldSerial = openssl(['x509', '-noout', '-serial', '-in', pki.server.cert])
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();
  const next = makeLeaf(pki.dir, 'server-next', pki.ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const nextSerial = openssl(['x509', '-noout', '-serial', '-in', next.cert])
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();
  copyFileSync(next.key, keyPath);
  copyFileSync(next.cert, certPath);
  // A negative check: a reload nobody asked for (a file watcher, a short interval) would show within half a second.
  await new Promise((r) => setTimeout(r, 500));
  const before: string[] = [];
  for (let i = 0; i < PROBES; i++) before.push(await servedSerial(cli.port, pki.ca.certPem));
  t.same([...new Set(before)], [oldSerial], 'no worker reloads without the signal');

  cli.child.kill('SIGHUP');
  const reloadedBy = (): Set<number> =>
    new Set(
      cli
        .lines()
        .filter((l) => l.msg === 'reloaded' && l.trigger === 'signal')
        .map((l) => Number(l.pid)),
    );
  t.ok(await waitFor(() => reloadedBy().size === 2, 3000), 'both workers logged a reload triggered by the signal');
  t.same(
    [...reloadedBy()].sort((a, b) => a - b),
    workers,
    'the reloads happened in the worker processes',
  );
  const after: string[] = [];
  for (let i = 0; i < PROBES; i++) after.push(await servedSerial(cli.port, pki.ca.certPem));
  t.same([...new Set(after)], [nextSerial], `all ${PROBES} new connections (both workers) see the new certificate`);
  t.equal(cli.child.exitCode, null, 'SIGHUP does not stop the primary');
  t.same(childPids(cli.child.pid as number), workers, 'nor any worker');
});
