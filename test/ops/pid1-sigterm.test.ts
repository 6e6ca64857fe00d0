// Running as PID 1 (a container without an init, made here with unshare), SIGTERM still drains and exits 0:
// the kernel drops signals PID 1 has no handler for, so this proves the handlers are really installed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, opsGet, startCli, waitFor } from './lib/cli-process.js';

function unshareMissing(): string | false {
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore', timeout: 5000 });
    return false;
  } catch {
    return 'unshare --pid needs root or user namespaces';
  }
}

/** The host pid of the only child of `parent` (node, which is PID 1 inside the new namespace). */
function childPidOf(parent: number): number {
  const text = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
  return Number(text.split(/\s+/)[0]);
}

t.test('SIGTERM as PID 1', { skip: cliMissing() || unshareMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  upstream.handler = (_req, res) => setTimeout(() => res.writeHead(200).end('slow done'), 1000);
  const cli = await startCli(
    [...proxyArgs(pki, upstream.url), '--allow-uri', 'spiffe://example.org/ns/prod/*', '--shutdown-grace', '5s'],
    { wrap: ['unshare', '--pid', '--fork', '--mount-proc'] },
  );
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const listening = cli.lines().find((l) => l.msg === 'mtls-sidecar listening');
  t.equal(listening?.pid, 1, 'the proxy runs as PID 1 in its namespace');
  const nodePid = childPidOf(cli.child.pid as number);
  t.ok(nodePid > 1);

  const slow = httpsRequest({
    port: cli.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/slow',
  });
  t.ok(await waitFor(() => upstream.received.length === 1, 5000));
  process.kill(nodePid, 'SIGTERM');
  t.ok(
    await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 503, 1000, 10),
    '/readyz 503 during the drain',
  );
  t.equal((await slow).status, 200, 'the in-flight request completed');
  t.equal(await cli.exited, 0, 'exit 0 (unshare passes on the exit status of PID 1)');
  t.ok(cli.lines().some((l) => l.msg === 'stopped'));
});
