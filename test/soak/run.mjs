// `npm run soak`: the built proxy under steady keep-alive load with periodic certificate swaps, CRL updates and
// SIGHUPs; reports RSS and fd drift. Usage: node test/soak/run.mjs [--minutes 10] [--connections 64] [--load-requests
// 200000] [--reload-every 20] [--report-every 30] Environment: MTLS_SOAK_MINUTES, MTLS_SOAK_CONNECTIONS,
// MTLS_SOAK_LOAD_REQUESTS (0 skips the accounted load check).
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { runHandshakes } from './lib/handshake-loop.mjs';
import { runLoad } from './lib/load-client.mjs';
import { freePort, processStats, proxyArgs, startProxyProcess, startTokenUpstream } from './lib/processes.mjs';
import { makeSoakPki } from './lib/soak-pki.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: process.env.MTLS_SOAK_MINUTES ?? '10' },
    connections: { type: 'string', default: process.env.MTLS_SOAK_CONNECTIONS ?? '64' },
    'load-requests': { type: 'string', default: process.env.MTLS_SOAK_LOAD_REQUESTS ?? '200000' },
    'reload-every': { type: 'string', default: '20' },
    'report-every': { type: 'string', default: '30' },
    // Drift bounds for the exit code: RSS growth over the second half of the run, and fds at the end vs the start.
    'max-rss-growth-mb': { type: 'string', default: '64' },
    'max-fd-drift': { type: 'string', default: '8' },
  },
});
const minutes = Number(args.minutes);
const connections = Number(args.connections);
const loadRequests = Number(args['load-requests']);
const mb = (kb) => `${(kb / 1024).toFixed(1)} MiB`;
const log = (line) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function metricsText(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

function metricSum(text, name, labelFilter = '') {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && line.includes(labelFilter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

function servedSerial(port, ca) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const serial = s.getPeerX509Certificate()?.serialNumber?.toUpperCase() ?? '';
      s.destroy();
      resolve(serial);
    });
    s.on('error', (e) => resolve(`error ${e.code ?? e.message}`));
  });
}

const failures = [];
const pki = makeSoakPki();
const upstream = await startTokenUpstream({ capacity: 1 << 25 });
const metricsPort = await freePort();
const proxy = await startProxyProcess({
  args: proxyArgs({
    upstream: upstream.url,
    cert: pki.live.cert,
    key: pki.live.key,
    clientCa: pki.ca,
    crl: [pki.live.crl],
    metricsListen: `127.0.0.1:${metricsPort}`,
    extra: ['--allow-uri', 'spiffe://example.org/ns/prod/*', '--reload-interval', '1s'],
  }),
});
const client = { ca: pki.caPem, cert: pki.clientPem.cert, key: pki.clientPem.key };
let exitCode = 0;
try {
  log(
    `proxy pid ${proxy.pid} on 127.0.0.1:${proxy.port}, upstream pid ${upstream.pid}; ${minutes} min soak, ${connections} connections`,
  );
  const start = processStats(proxy.pid);
  log(`start: RSS ${mb(start.rssKb)}, fds ${start.fds}`);

  // Phase 1: the accounted load check (every response matched to its request, every id seen once upstream).
  if (loadRequests > 0) {
    const { report } = await runLoad({ port: proxy.port, ...client, connections, requests: loadRequests });
    const seen = await upstream.summary();
    const ok =
      report.ok === loadRequests &&
      report.mismatched === 0 &&
      seen.once === loadRequests &&
      seen.dup === 0 &&
      report.connects === connections;
    log(
      `load check: ${loadRequests} requests over ${connections} keep-alive connections in ${(report.elapsedMs / 1000).toFixed(1)} s ` +
        `(${Math.round((loadRequests / report.elapsedMs) * 1000)} req/s, mean ${(report.latencySumMs / report.completed).toFixed(1)} ms, max ${report.maxLatencyMs.toFixed(0)} ms); ` +
        `statuses ${JSON.stringify(report.byStatus)}, mismatched ${report.mismatched}, lost ${report.lost + report.truncated}, ` +
        `upstream saw ${seen.once} once / ${seen.dup} duplicated, connections opened ${report.connects} -> ${ok ? 'OK' : 'FAILED'}`,
    );
    if (!ok) failures.push('load check');
    await upstream.reset();
  }

  // Phase 2: the soak itself.
  const live = {};
  const stop = new AbortController();
  const t0 = performance.now();
  const load = runLoad({
    port: proxy.port,
    ...client,
    connections,
    durationMs: minutes * 60_000,
    signal: stop.signal,
    report: live,
  });
  // Alongside: full handshakes from a leaf + intermediate client (each must get 200) and from a hostile client
  // sending an untrusted leaf + 40 junk certificates (each must be refused).
  const sideLoops = new AbortController();
  const chainedLoop = runHandshakes({
    port: proxy.port,
    ca: pki.caPem,
    ...pki.chainedPem,
    count: Infinity,
    concurrency: 2,
    request: true,
    signal: sideLoops.signal,
  });
  const hostileLoop = runHandshakes({
    port: proxy.port,
    ca: pki.caPem,
    ...pki.hostilePem,
    count: Infinity,
    concurrency: 2,
    request: true,
    signal: sideLoops.signal,
  });
  const samples = [];
  let reloadStep = 0;
  let current = 0;
  const reloadTimer = setInterval(
    () => {
      const step = reloadStep++ % 3;
      if (step === 0) {
        current = 1 - current;
        pki.installServer(current);
        setTimeout(async () => {
          const served = await servedSerial(proxy.port, pki.caPem);
          if (served !== pki.serverSerials[current]) {
            failures.push(`certificate swap not served: got ${served}, wanted ${pki.serverSerials[current]}`);
            log(`certificate swap NOT served (got ${served})`);
          }
        }, 3000).unref();
      } else if (step === 1) pki.issueCrl();
      else proxy.child.kill('SIGHUP');
    },
    Number(args['reload-every']) * 1000,
  );
  const sample = async () => {
    const s = processStats(proxy.pid);
    const text = await metricsText(metricsPort).catch(() => '');
    const entry = {
      at: (performance.now() - t0) / 1000,
      rssKb: s.rssKb,
      fds: s.fds,
      sent: live.sent ?? 0,
      ok: live.ok ?? 0,
      completed: live.completed ?? 0,
      reloads: metricSum(text, 'mtls_sidecar_reloads_total', 'result="success"'),
      refused: metricSum(text, 'mtls_sidecar_reloads_total', 'result="failure"'),
    };
    samples.push(entry);
    log(
      `t+${entry.at.toFixed(0)}s: ${entry.completed} answered (${entry.completed - entry.ok} failed, ${entry.sent - entry.completed} in flight), RSS ${mb(s.rssKb)} (${s.rssKb - start.rssKb >= 0 ? '+' : ''}${mb(s.rssKb - start.rssKb)}), ` +
        `fds ${s.fds} (${s.fds - start.fds >= 0 ? '+' : ''}${s.fds - start.fds}), reloads ${entry.reloads} ok / ${entry.refused} refused`,
    );
  };
  const reportTimer = setInterval(() => void sample(), Number(args['report-every']) * 1000);
  const stopOnSignal = () => stop.abort();
  process.once('SIGINT', stopOnSignal);
  const { report } = await load;
  sideLoops.abort();
  const [chainedReport, hostileReport] = await Promise.all([chainedLoop, hostileLoop]);
  clearInterval(reloadTimer);
  clearInterval(reportTimer);
  await sample();

  const seen = await upstream.summary();
  const rss = samples.map((s) => s.rssKb);
  const half = samples.filter((s) => s.at >= samples[samples.length - 1].at / 2);
  const growth = half.length > 1 ? half[half.length - 1].rssKb - Math.min(...half.map((s) => s.rssKb)) : 0;
  // Upstream keep-alive sockets stay pooled; fd drift is judged once the callers are gone and the pool has settled.
  await new Promise((r) => setTimeout(r, 2000));
  const end = processStats(proxy.pid);
  const fdDrift = end.fds - start.fds - Math.min(connections, 128);
  log('summary:');
  log(
    `  soak ${minutes} min: ${report.sent} requests in ${(report.elapsedMs / 1000).toFixed(0)} s (${Math.round((report.sent / report.elapsedMs) * 1000)} req/s), ` +
      `statuses ${JSON.stringify(report.byStatus)}, mismatched ${report.mismatched}, lost ${report.lost}, truncated ${report.truncated}, reconnects ${report.connects - connections}`,
  );
  log(
    `  leaf + intermediate client: ${chainedReport.done} full handshakes, statuses ${JSON.stringify(chainedReport.statuses)}, errors ${JSON.stringify(chainedReport.errors)}`,
  );
  log(
    `  hostile client (untrusted leaf + 40 junk certificates): ${hostileReport.done} handshakes, answered ${JSON.stringify(hostileReport.statuses)} (must be none)`,
  );
  if (chainedReport.done === 0 || chainedReport.statuses['200'] !== chainedReport.done)
    failures.push('leaf + intermediate client not admitted');
  if (Object.keys(hostileReport.statuses).length > 0 || hostileReport.done === 0)
    failures.push('hostile client answered (or never ran)');
  log(`  upstream: ${seen.once} ids once, ${seen.dup} duplicated, ${seen.missingIdentity} without identity headers`);
  log(
    `  reloads: ${samples[samples.length - 1].reloads} successful, ${samples[samples.length - 1].refused} refused (certificate swaps, CRL re-issues, SIGHUPs every ${args['reload-every']} s)`,
  );
  log(
    `  RSS: start ${mb(start.rssKb)}, min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}, end ${mb(end.rssKb)}; growth over the second half ${mb(growth)}`,
  );
  log(`  fds: start ${start.fds}, end ${end.fds} (upstream pool up to ${Math.min(connections, 128)} allowed)`);
  if (report.sent === 0 || report.ok !== report.sent || report.mismatched > 0 || seen.dup > 0)
    failures.push('requests failed during the soak');
  if (growth > Number(args['max-rss-growth-mb']) * 1024) failures.push(`RSS grew ${mb(growth)} over the second half`);
  if (fdDrift > Number(args['max-fd-drift'])) failures.push(`fd drift ${fdDrift}`);
  if (!proxy.alive()) failures.push('proxy exited');
  log(failures.length === 0 ? 'RESULT: OK' : `RESULT: FAILED (${failures.join('; ')})`);
  exitCode = failures.length === 0 ? 0 : 1;
} catch (err) {
  log(`soak aborted: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  const exit = await proxy.stop('SIGTERM', 10_000);
  log(`proxy stopped: ${JSON.stringify(exit)}`);
  await upstream.kill();
  pki.cleanup();
}
process.exit(exitCode);
