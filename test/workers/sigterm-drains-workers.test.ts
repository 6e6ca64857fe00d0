// --workers 2, SIGTERM on the primary during a slow request: /readyz 503 at once, new connections refused,
// the in-flight request completes, every worker exits, and the primary exits 0.
import net from 'node:net';
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, opsGet, startCli, waitFor } from '../ops/lib/cli-process.js';
import { childPids } from './lib/processes.js';

const SLOW_MS = 1500;

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (err: Error & { code?: string }) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('SIGTERM drains every worker, exit 0', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  upstream.handler = (req, res) => {
    setTimeout(
      () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`),
      req.url.startsWith('/slow') ? SLOW_MS : 0,
    );
  };
  const cli = await startCli([
    ...proxyArgs(pki, upstream.url),
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--shutdown-grace',
    '8s',
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

  const slow = httpsRequest({
    port: cli.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/slow',
  });
  t.ok(
    await waitFor(() => upstream.received.some((r) => r.url === '/slow'), 5000),
    'the slow request reached the upstream',
  );
  const signalledAt = Date.now();
  cli.child.kill('SIGTERM');
  t.ok(
    await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 503, 500, 10),
    '/readyz 503 at once',
  );
  t.match((await opsGet(cli.metricsPort, '/readyz')).body, /draining/);
  t.ok(await waitFor(() => connectRefused(cli.port), 2000, 20), 'new connections are refused');
  t.equal((await opsGet(cli.metricsPort, '/healthz')).status, 200, '/healthz still answers while draining');

  const answer = await slow;
  t.equal(answer.status, 200, 'the in-flight request completed');
  t.equal(answer.body, 'done /slow');
  t.equal(await cli.exited, 0, 'the primary exits 0');
  t.ok(Date.now() - signalledAt < 8000, 'within --shutdown-grace');
  t.ok(
    workers.every((pid) => !alive(pid)),
    'no worker is left running',
  );
  const stoppedWorkers = new Set(
    cli
      .lines()
      .filter((l) => l.msg === 'worker stopped')
      .map((l) => Number(l.pid)),
  );
  t.same(
    [...stoppedWorkers].sort((a, b) => a - b),
    workers,
    'each worker drained and stopped itself',
  );
  t.notOk(
    cli.lines().some((l) => l.msg === 'worker exited unexpectedly; starting a new one'),
    'no restart during shutdown',
  );
});
