// Upstream faults under load: killed and restarted on the same port, only requests caught in the outage fail
// (502/504); a slow upstream gets 504 at --upstream-timeout; no crash, no leaked sockets.
import t from 'tap';
import { performance } from 'node:perf_hooks';
import { LOST, TRUNCATED, runLoad } from '../soak/lib/load-client.mjs';
import { processStats, startTokenUpstream, waitFor, type TokenUpstream } from '../soak/lib/processes.mjs';
import { clientTls, makeReliabilityPki, scaled, startStack, stopStack } from './lib/fixture.js';

const CONNECTIONS = 32;
const LOAD_MS = scaled(6000);
// Requests answered before the kill, so the load is well under way (not a fixed pause).
const ANSWERED_BEFORE_KILL = 500;
// How long the upstream stays down: the fault itself, a deliberate duration.
const OUTAGE_MS = 500;
// Requests answered after the restart before the load may stop.
const ANSWERED_AFTER_RESTART = 200;

t.test('upstream killed mid-load and restarted on the same port', async (t) => {
  const pki = makeReliabilityPki();
  const stack = await startStack(pki, ['--upstream-timeout', '2s']);
  let upstream: TokenUpstream = stack.upstream;
  t.teardown(async () => {
    stack.upstream = upstream;
    await stopStack(stack);
    pki.cleanup();
  });
  const baseline = processStats(stack.proxy.pid);
  const errorBodies = new Map<number, string>();

  let tKill = 0;
  let tUp = 0;
  const progress: { ok?: number } = {};
  const chaos = (async () => {
    await waitFor(() => (progress.ok ?? 0) >= ANSWERED_BEFORE_KILL, 30_000, 20);
    tKill = performance.now();
    await upstream.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    upstream = await startTokenUpstream({ port: stack.upstream.port });
    tUp = performance.now();
  })();
  // Load runs at least LOAD_MS and until well after the restart, however slow the machine is at restarting it.
  const stop = new AbortController();
  let loadMinimum = false;
  let chaosDone = false;
  const maybeStop = (): void => {
    if (loadMinimum && chaosDone) stop.abort();
  };
  setTimeout(() => {
    loadMinimum = true;
    maybeStop();
  }, LOAD_MS);
  void chaos.then(async () => {
    const okAtRestart = progress.ok ?? 0;
    await waitFor(() => (progress.ok ?? 0) >= okAtRestart + ANSWERED_AFTER_RESTART, 30_000, 20);
    chaosDone = true;
    maybeStop();
  });
  const { report, records, t0 } = await runLoad({
    port: stack.proxy.port,
    ...clientTls(pki),
    connections: CONNECTIONS,
    durationMs: LOAD_MS + 60_000,
    signal: stop.signal,
    record: true,
    recordCapacity: 2_000_000,
    report: progress,
    onErrorResponse: (id, _status, body) => errorBodies.set(id, body),
  });
  await chaos;
  if (!records) throw new Error('records missing');
  const kill = tKill - t0;
  const up = tUp - t0;

  let failed = 0;
  let failedOutsideOutage = 0;
  let firstAfterRestart = -1;
  let firstAfterRestartStart = Infinity;
  let afterRestartFailed = 0;
  for (let id = 0; id < report.sent; id += 1) {
    const status = records.status[id] ?? 0;
    const start = records.start[id] ?? 0;
    const end = records.end[id] ?? 0;
    if (status !== 200) {
      failed += 1;
      if (!(start < up && end >= kill)) failedOutsideOutage += 1;
    }
    if (start > up) {
      if (status !== 200) afterRestartFailed += 1;
      if (start < firstAfterRestartStart) {
        firstAfterRestartStart = start;
        firstAfterRestart = id;
      }
    }
  }
  const statuses = Object.keys(report.byStatus).map(Number).sort();
  t.comment(
    `faults: ${report.sent} requests in ${(report.elapsedMs / 1000).toFixed(1)} s, upstream down ${(up - kill).toFixed(0)} ms; ` +
      `outcomes ${JSON.stringify(report.byStatus)}`,
  );
  t.ok(failed > 0, 'the outage was actually hit by some requests');
  t.same(
    statuses.filter((s) => ![200, 502, 504].includes(s)),
    [],
    'only 200, 502 or 504',
  );
  t.equal(report.byStatus[LOST] ?? 0, 0, 'no client connection was dropped');
  t.equal(report.byStatus[TRUNCATED] ?? 0, 0, 'no truncated response');
  t.equal(
    failedOutsideOutage,
    0,
    'every 502/504 belongs to a request in flight at the kill or sent while the upstream was down',
  );
  t.ok(firstAfterRestart >= 0, 'requests were sent after the restart');
  t.equal(records.status[firstAfterRestart], 200, 'the first request after the restart succeeded');
  t.equal(afterRestartFailed, 0, 'every request after the restart succeeded');
  t.equal(report.mismatched, 0, 'no mixed-up response');
  const oddBodies = [...errorBodies.values()].filter(
    (b) => !/^\{"error":"(bad_gateway|upstream_timeout)","requestId":"[^"]+"\}$/.test(b),
  );
  t.same(oddBodies.slice(0, 3), [], `all ${errorBodies.size} error replies carry the fixed JSON body`);
  t.ok(stack.proxy.alive(), 'proxy survived');

  // With the callers gone and the upstream closing its side, every socket the proxy held must be released.
  await upstream.kill('SIGKILL');
  const settled = await waitFor(() => processStats(stack.proxy.pid).fds <= baseline.fds, 10_000, 100);
  t.ok(settled, `fd count back to baseline ${baseline.fds} (now ${processStats(stack.proxy.pid).fds})`);
});

t.test(
  'a slow upstream gets 504 upstream_timeout at --upstream-timeout, and the connection keeps working',
  async (t) => {
    const pki = makeReliabilityPki();
    const stack = await startStack(pki, ['--upstream-timeout', '1s']);
    t.teardown(async () => {
      await stopStack(stack);
      pki.cleanup();
    });
    const bodies: string[] = [];
    const slow = await runLoad({
      port: stack.proxy.port,
      ...clientTls(pki),
      connections: 4,
      requests: 4,
      record: true,
      pathOf: (id) => `/slow/3000/${id}`,
      onErrorResponse: (_id, status, body) => bodies.push(`${status} ${body}`),
    });
    t.same(slow.report.byStatus, { 504: 4 }, 'every slow request got 504');
    for (const b of bodies) t.match(b, /^504 \{"error":"upstream_timeout","requestId":"[^"]+"\}$/);
    const records = slow.records!;
    for (let id = 0; id < 4; id += 1) {
      const took = (records.end[id] ?? 0) - (records.start[id] ?? 0);
      t.ok(took >= 950 && took < 2500, `504 after ${took.toFixed(0)} ms (timeout 1000 ms)`);
    }
    const fast = await runLoad({
      port: stack.proxy.port,
      ...clientTls(pki),
      connections: 1,
      requests: 5,
      firstId: 100,
    });
    t.same(fast.report.byStatus, { 200: 5 }, 'normal requests still succeed afterwards');
    t.ok(stack.proxy.alive());
  },
);
