// Load: many requests over 64 keep-alive connections through the real proxy process; every response 2xx and matched to
// its own request.
import t from 'tap';
import { runLoad } from '../soak/lib/load-client.mjs';
import { processStats } from '../soak/lib/processes.mjs';
import { clientTls, formatKb, makeReliabilityPki, reliabilityScale, startStack, stopStack } from './lib/fixture.js';

// 50,000 keeps `npm test` inside its budget on a 2-core machine; MTLS_RELIABILITY_SCALE=4 (or `npm run soak`)
// runs the full 200,000.
const REQUESTS = Math.round(50_000 * reliabilityScale());
const CONNECTIONS = 64;
t.setTimeout(Math.max(120_000, REQUESTS * 2));

t.test(
  `${REQUESTS} requests over ${CONNECTIONS} keep-alive connections are all answered, each with its own response`,
  async (t) => {
    const pki = makeReliabilityPki();
    const stack = await startStack(pki, [], REQUESTS + 16);
    t.teardown(async () => {
      await stopStack(stack);
      pki.cleanup();
    });
    const before = processStats(stack.proxy.pid);
    const { report } = await runLoad({
      port: stack.proxy.port,
      ...clientTls(pki),
      connections: CONNECTIONS,
      requests: REQUESTS,
    });
    const after = processStats(stack.proxy.pid);
    const rps = Math.round((REQUESTS / report.elapsedMs) * 1000);
    t.comment(
      `load: ${REQUESTS} requests in ${(report.elapsedMs / 1000).toFixed(1)} s (${rps} req/s), mean latency ` +
        `${(report.latencySumMs / report.completed).toFixed(1)} ms, max ${report.maxLatencyMs.toFixed(0)} ms; ` +
        `proxy RSS ${formatKb(before.rssKb)} -> ${formatKb(after.rssKb)}, fds ${before.fds} -> ${after.fds}`,
    );

    t.equal(report.sent, REQUESTS, 'every id was sent');
    t.same(report.byStatus, { 200: REQUESTS }, 'every response is 200');
    t.equal(report.ok, REQUESTS, 'every body echoes its own token and path');
    t.equal(report.mismatched, 0, 'no mixed-up responses');
    t.same(report.mismatchSamples, []);
    t.equal(report.lost + report.truncated, 0, 'no connection lost a request');
    t.equal(report.connects, CONNECTIONS, 'the 64 connections stayed open for the whole run (keep-alive held)');

    // The upstream's own count is the independent ledger: each id exactly once, nothing else.
    const seen = await stack.upstream.summary();
    t.equal(seen.received, REQUESTS, 'upstream received exactly as many requests as were sent');
    t.equal(seen.once, REQUESTS, 'every id reached the upstream exactly once');
    t.equal(seen.dup, 0, 'no id was forwarded twice');
    t.equal(seen.maxId, REQUESTS - 1);
    t.equal(seen.badToken, 0, 'x-token header and path always belonged to the same request');
    t.equal(seen.missingIdentity, 0, 'every forwarded request carried X-Client-Subject');
    t.ok(stack.proxy.alive(), 'proxy still running');
  },
);
