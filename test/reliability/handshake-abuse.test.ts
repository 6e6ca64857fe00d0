// Handshake abuse: thousands of cert-less, wrong-CA, truncated and abandoned handshakes while an authorized caller
// keeps working; memory and fds return to baseline.
import t from 'tap';
import { makeCa, makeLeaf } from '../helpers/pki.js';
import { runLoad } from '../soak/lib/load-client.mjs';
import { GC_ON_SIGNAL_ARGS, processStats, waitFor, type ProcessStats } from '../soak/lib/processes.mjs';
import { captureClientHello, handshakeThenRequest, rawAttempt, runBounded, type AttemptResult } from './lib/abuse.js';
import { clientTls, formatKb, makeReliabilityPki, scaled, startStack, stopStack } from './lib/fixture.js';
import { heldConnections } from './lib/proc-net.js';

// 3 rounds of 1,000 (3,000 abusive handshakes): the first rounds absorb one-time growth, the last shows whether memory
// keeps climbing. RSS is read after a full garbage collection: V8's young generation grows with the allocation rate
// (up to 3 x 64 MiB on Node 24 on a large host), so without one, uncollected garbage of a busy round reads as growth.
const ROUNDS = 3;
const ROUND = scaled(1000);
const CONCURRENCY = 50;
// RSS may stay above its low-water mark after a burst (V8 and malloc keep freed pages); a leak shows up as growth
// from one identical round to the next, so the second round is held to a tighter bound than the first.
const RSS_TOLERANCE_KB = 40 * 1024;
const RSS_ROUND_GROWTH_KB = 12 * 1024;

t.test('handshake abuse does not disturb an authorized caller or leak', async (t) => {
  const pki = makeReliabilityPki();
  const rogueCa = makeCa(pki.dir, 'Rogue CA');
  const rogue = makeLeaf(pki.dir, 'rogue', rogueCa, {
    subject: '/CN=orders',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders'],
  });
  // The proxy runs with a test-only hook (GC_ON_SIGNAL_ARGS) so each reading follows a full garbage collection.
  const stack = await startStack(pki, [], undefined, GC_ON_SIGNAL_ARGS);
  t.teardown(async () => {
    await stopStack(stack);
    pki.cleanup();
  });
  const hello = await captureClientHello('TLSv1.3');
  const pid = stack.proxy.pid;
  const tlsOpts = clientTls(pki);

  // Warm up with the same authorized traffic shape, so JIT and pool growth are inside the baseline.
  await runLoad({ port: stack.proxy.port, ...tlsOpts, connections: 2, requests: 2000, firstId: 1_000_000 });
  const beforeGc: number[] = [];
  const settle = async (): Promise<ProcessStats> => {
    // Read once the proxy holds no client connection any more (the kernel's view), not after a fixed pause.
    t.ok(
      await waitFor(() => heldConnections(stack.proxy.port) === 0, 30_000, 50),
      'every connection closed on the proxy side before the reading',
    );
    beforeGc.push(processStats(pid).rssKb);
    t.ok(await stack.proxy.collectGarbage(), 'the proxy ran a full garbage collection before the reading');
    return processStats(pid);
  };
  const baseline = await settle();

  const kinds = [
    'cert-less TLS 1.3',
    'cert-less TLS 1.2',
    'wrong CA',
    'partial ClientHello',
    'abandoned after ServerHello',
    'connect and close',
  ] as const;
  const attempt = async (i: number): Promise<{ kind: string; result: AttemptResult }> => {
    const kind = kinds[i % kinds.length]!;
    switch (kind) {
      case 'cert-less TLS 1.3':
        return { kind, result: await handshakeThenRequest({ port: stack.proxy.port, ca: pki.caPem }) };
      case 'cert-less TLS 1.2':
        return {
          kind,
          result: await handshakeThenRequest({ port: stack.proxy.port, ca: pki.caPem, maxVersion: 'TLSv1.2' }),
        };
      case 'wrong CA':
        return {
          kind,
          result: await handshakeThenRequest({
            port: stack.proxy.port,
            ca: pki.caPem,
            cert: rogue.certPem,
            key: rogue.keyPem,
          }),
        };
      case 'partial ClientHello':
        return {
          kind,
          result: (
            await rawAttempt({ port: stack.proxy.port, bytes: hello.subarray(0, 1 + (i % 60)), mode: 'close-now' })
          ).result,
        };
      case 'abandoned after ServerHello':
        return {
          kind,
          result: (await rawAttempt({ port: stack.proxy.port, bytes: hello, mode: 'after-server-flight' })).result,
        };
      default:
        return {
          kind,
          result: (await rawAttempt({ port: stack.proxy.port, bytes: Buffer.alloc(0), mode: 'close-now' })).result,
        };
    }
  };

  const rounds: Array<{ stats: ProcessStats; ms: number }> = [];
  let authorizedOk = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const stop = new AbortController();
    const authorized = runLoad({
      port: stack.proxy.port,
      ...tlsOpts,
      connections: 2,
      signal: stop.signal,
      firstId: round * 500_000,
    });
    const started = Date.now();
    const results = await runBounded(ROUND, CONCURRENCY, attempt);
    const ms = Date.now() - started;
    stop.abort();
    const { report } = await authorized;
    authorizedOk += report.ok;

    const answered = results.filter((r) => r.result === 'answered').map((r) => r.kind);
    t.same([...new Set(answered)], [], `round ${round + 1}: no abusive connection got an HTTP answer`);
    t.ok(report.sent > 0, `round ${round + 1}: the authorized caller kept sending (${report.sent} requests)`);
    t.equal(report.ok, report.sent, `round ${round + 1}: every authorized request succeeded`);
    t.same(report.byStatus, { 200: report.sent });
    t.equal(report.lost + report.truncated + report.mismatched, 0);
    t.equal(report.connects, 2, 'the authorized connections were never dropped');
    rounds.push({ stats: await settle(), ms });
  }
  t.ok(stack.proxy.alive(), 'proxy survived');

  const fdsBack = await waitFor(() => processStats(pid).fds <= baseline.fds, 10_000, 100);
  const final = processStats(pid);
  const [r1, r2, r3] = rounds as [
    { stats: ProcessStats; ms: number },
    { stats: ProcessStats; ms: number },
    { stats: ProcessStats; ms: number },
  ];
  t.comment(
    `handshake abuse: ${ROUNDS} x ${ROUND} attempts (concurrency ${CONCURRENCY}) in ${r1.ms} + ${r2.ms} + ${r3.ms} ms; ` +
      `${authorizedOk} authorized requests all 200; RSS baseline ${formatKb(baseline.rssKb)}, after each round ` +
      `${formatKb(r1.stats.rssKb)}, ${formatKb(r2.stats.rssKb)}, ${formatKb(r3.stats.rssKb)} after a full GC ` +
      `(before it: ${beforeGc.map(formatKb).join(', ')}); fds ${baseline.fds} -> ${final.fds}`,
  );
  t.ok(fdsBack, `fd count back to baseline ${baseline.fds} (now ${final.fds})`);
  t.ok(r3.stats.rssKb <= baseline.rssKb + RSS_TOLERANCE_KB, `RSS within ${RSS_TOLERANCE_KB / 1024} MiB of baseline`);
  t.ok(
    r3.stats.rssKb <= r2.stats.rssKb + RSS_ROUND_GROWTH_KB,
    `no growth from round 2 to round 3 beyond ${RSS_ROUND_GROWTH_KB / 1024} MiB`,
  );
});
