// Access lines are written in batches, yet none is lost or reordered: a quiet process still writes them within about
// 2 s, a line logged after them comes after them, and SIGTERM writes every one before the process exits.
import https from 'node:https';
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, startCli, waitFor, type LogLine } from './lib/cli-process.js';

const isAccess = (l: LogLine): boolean => l.msg === 'access';

t.test(
  'batched access lines: written when quiet, in order, and all of them at exit',
  { skip: cliMissing() },
  async (t) => {
    const pki = makeTestPki();
    const upstream = await startRecordingUpstream();
    const cli = await startCli([
      ...proxyArgs(pki, upstream.url),
      '--allow-uri',
      'spiffe://example.org/ns/prod/*',
      '--log-level',
      'info',
    ]);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
    t.teardown(async () => {
      agent.destroy();
      await cli.stop();
      await upstream.close();
      pki.cleanup();
    });
    const caller = { port: cli.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem, agent };
    const get = (id: string) => httpsRequest({ ...caller, path: `/item/${id}`, headers: { 'x-request-id': id } });

    // Three requests, far less than a batch: their lines must still show up without any further traffic.
    for (const id of ['quiet-1', 'quiet-2', 'quiet-3']) t.equal((await get(id)).status, 200);
    const sentAt = Date.now();
    t.ok(await waitFor(() => cli.lines().filter(isAccess).length === 3, 5000), 'a quiet batch is written');
    t.ok(Date.now() - sentAt < 3000, 'within about 2 s');

    // Enough requests for several full batches, then SIGTERM at once: every line must be in the output.
    const ids = Array.from({ length: 400 }, (_, i) => `burst-${i}`);
    for (let i = 0; i < ids.length; i += 20) {
      const statuses = await Promise.all(ids.slice(i, i + 20).map((id) => get(id).then((r) => r.status)));
      t.ok(
        statuses.every((s) => s === 200),
        `burst ${i / 20}: all answered`,
      );
    }
    agent.destroy();
    cli.child.kill('SIGTERM');
    t.equal(await cli.exited, 0, 'exits 0');
    const lines = cli.lines();
    const accessIds = lines.filter(isAccess).map((l) => l.requestId);
    t.same(
      accessIds.filter((id) => String(id).startsWith('burst-')).sort(),
      [...ids].sort(),
      'every burst request has its access line',
    );
    t.equal(new Set(accessIds).size, accessIds.length, 'no access line twice');
    // The drain messages are logged after the last request was answered: every access line comes before them.
    const firstDrain = lines.findIndex((l) => typeof l.msg === 'string' && l.msg.startsWith('draining'));
    const lastAccess = lines.map(isAccess).lastIndexOf(true);
    t.ok(firstDrain > 0, 'the drain is logged');
    t.ok(lastAccess < firstDrain, 'access lines gathered before the drain line are written before it');
  },
);
