// --workers 2: a worker killed with SIGKILL is logged and replaced by a new process; /readyz returns to 200
// and new connections are served, including by the replacement.
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, opsGet, startCli, waitFor } from '../ops/lib/cli-process.js';
import { childPids } from './lib/processes.js';

t.test('a killed worker is replaced', { skip: cliMissing() }, async (t) => {
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
  t.ok(await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 200, 20_000), 'ready');
  const before = childPids(primary);
  t.equal(before.length, 2, 'two workers');
  const [victim, survivor] = before as [number, number];
  process.kill(victim, 'SIGKILL');

  const exitLine = await cli.waitForLine((l) => l.msg === 'worker exited unexpectedly; starting a new one', 5000);
  t.equal(exitLine.worker, victim, 'the primary logged which worker died');
  t.equal(exitLine.reason, 'signal SIGKILL', 'and why');
  let after: number[] = [];
  t.ok(
    await waitFor(() => {
      after = childPids(primary);
      return after.length === 2 && !after.includes(victim);
    }, 15_000),
    'a new worker process took its place',
  );
  t.ok(after.includes(survivor), 'the other worker kept running');
  const replacement = after.find((pid) => pid !== survivor) as number;
  t.ok(
    await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 200, 20_000),
    '/readyz 200 again once the replacement is ready',
  );

  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    statuses.push(
      (
        await httpsRequest({
          port: cli.port,
          ca: pki.ca.certPem,
          cert: pki.client.certPem,
          key: pki.client.keyPem,
          path: `/after/${i}`,
        })
      ).status,
    );
  }
  t.same(statuses, Array(20).fill(200), 'service continues');
  t.ok(await waitFor(() => cli.lines().filter((l) => l.msg === 'access').length >= 20, 5000));
  const servedBy = new Set(
    cli
      .lines()
      .filter((l) => l.msg === 'access')
      .map((l) => Number(l.pid)),
  );
  t.ok(servedBy.has(replacement), 'the replacement serves connections');
  t.ok(servedBy.has(survivor), 'so does the survivor');
  t.equal(cli.child.exitCode, null, 'the primary keeps running');
});
