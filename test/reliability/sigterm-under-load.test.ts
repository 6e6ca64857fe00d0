// SIGTERM under load: every request the proxy accepted gets a complete response, new connections are refused, the
// process exits 0.
import t from 'tap';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOST, TRUNCATED, runLoad } from '../soak/lib/load-client.mjs';
import { waitFor } from '../soak/lib/processes.mjs';
import { clientTls, makeReliabilityPki, startStack, stopStack } from './lib/fixture.js';

const GRACE_MS = 8000;

function tcpRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

t.test('SIGTERM while 32 connections are busy', async (t) => {
  const pki = makeReliabilityPki();
  const stack = await startStack(pki, ['--shutdown-grace', `${GRACE_MS / 1000}s`]);
  t.teardown(async () => {
    await stopStack(stack);
    pki.cleanup();
  });
  const errorBodies = new Set<string>();
  const progress = { ok: 0 };
  // Every 7th request takes 1.5 s upstream, so plenty are in flight when the signal lands.
  const load = runLoad({
    port: stack.proxy.port,
    ...clientTls(pki),
    connections: 32,
    durationMs: 20_000,
    record: true,
    recordCapacity: 1_000_000,
    report: progress,
    pathOf: (id) => (id % 7 === 0 ? `/slow/1500/${id}` : `/load/${id}`),
    stopOnConnectError: true,
    onErrorResponse: (_id, status, body) => errorBodies.add(`${status} ${body}`),
  });
  // Signal once the load is well under way (more answers than the "load was running" bound below), not after a pause.
  t.ok(await waitFor(() => progress.ok > 200, 15_000, 20), 'load under way before the signal');
  const tTerm = performance.now();
  stack.proxy.child.kill('SIGTERM');
  // The listener closes when the drain begins: probe until a connection is refused, each probe while the proxy still
  // runs.
  let refusedWhileDraining = false;
  await waitFor(
    async () => {
      if (!stack.proxy.alive()) return true;
      refusedWhileDraining = await tcpRefused(stack.proxy.port);
      return refusedWhileDraining;
    },
    GRACE_MS,
    20,
  );
  const exit = await stack.proxy.exited;
  const exitMs = performance.now() - tTerm;
  const { report, records } = await load;
  if (!records) throw new Error('records missing');

  // The upstream's ledger says which requests the proxy accepted and forwarded.
  const forwarded = new Set(await stack.upstream.ids(0, report.sent));
  let forwardedNot200 = 0;
  let answeredNotForwarded = 0;
  let truncated = 0;
  let lost = 0;
  let other: Record<number, number> = {};
  for (let id = 0; id < report.sent; id += 1) {
    const status = records.status[id] ?? 0;
    if (status === TRUNCATED) truncated += 1;
    if (status === LOST) lost += 1;
    if (forwarded.has(id) && status !== 200) forwardedNot200 += 1;
    if (!forwarded.has(id) && status === 200) answeredNotForwarded += 1;
    if (status !== 200 && status !== LOST) other = { ...other, [status]: (other[status] ?? 0) + 1 };
  }
  t.comment(
    `SIGTERM: ${report.sent} requests, ${forwarded.size} accepted and forwarded, all answered 200; ` +
      `${lost} unsent-or-refused at close, other outcomes ${JSON.stringify(other)}; exit ${JSON.stringify(exit)} after ${exitMs.toFixed(0)} ms`,
  );
  t.same(exit, { code: 0, signal: null }, 'exit 0');
  t.ok(exitMs < GRACE_MS + 2000, 'exited within the grace period');
  t.ok(refusedWhileDraining, 'a new connection during the drain is refused');
  t.ok(forwarded.size > 100, 'load was running');
  t.equal(forwardedNot200, 0, 'every request the proxy accepted got a complete 200');
  t.equal(truncated, 0, 'no response was cut off');
  t.equal(answeredNotForwarded, 0, 'no 200 without the upstream having seen the request');
  t.equal(report.mismatched, 0);
  // Requests that arrive on a keep-alive connection after the drain began may be answered 503 (never forwarded).
  t.comment(`error bodies seen: ${JSON.stringify([...errorBodies])}`);
  t.same(
    Object.keys(other).filter((s) => s !== '503'),
    [],
    'anything else was a 503 or a connection closed before the request was read',
  );
});
