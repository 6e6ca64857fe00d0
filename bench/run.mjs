// `npm run bench`: the sidecar against nginx and HAProxy on the same mTLS proxy job — CPU per request and per handshake, latency, memory.
// Usage: node bench/run.mjs [--quick] [--rounds N] [--seconds S] [--handshake-seconds S] [--connections N]
//        [--idle N] [--upload-mib N] [--only sidecar,nginx,haproxy,node] [--no-extras] [--no-access-log] [--key-type ec|rsa] [--out FILE]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { startHaproxyContender, startNginxContender, startNodeFloor, startSidecar, startUpstream } from './lib/contenders.mjs';
import { measureIdleConnections, measureUpload } from './lib/extras.mjs';
import { runAb, runNodeResume, runSTime, runWrk } from './lib/load.mjs';
import { hasCommand, killAllSync, pinSelf, processTree, runCommand, stopProcess, treeCpuSeconds, treeMemoryMb } from './lib/procs.mjs';
import { mainTable, memoryTable, pairedRatio, ratio, spreadTable, summarize } from './lib/report.mjs';
import { measureWorkers } from './lib/workers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTENDER_CPU = 0;
const LOAD_CPU = 1;
const HARD_LIMIT_MS = 355_000;

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' }, seconds: { type: 'string' }, 'handshake-seconds': { type: 'string' },
    connections: { type: 'string', default: '32' }, idle: { type: 'string' }, 'upload-mib': { type: 'string' },
    only: { type: 'string' }, 'no-extras': { type: 'boolean', default: false }, 'no-access-log': { type: 'boolean', default: false },
    'key-type': { type: 'string', default: 'ec' }, out: { type: 'string', default: join(HERE, 'results', 'latest.json') },
  },
});
const quick = opt.quick;
const cfg = {
  rounds: Number(opt.rounds ?? (quick ? 1 : 4)),
  seconds: Number(opt.seconds ?? (quick ? 3 : 5)),
  handshakeSeconds: Number(opt['handshake-seconds'] ?? 1),
  connections: Number(opt.connections),
  idle: Number(opt.idle ?? (quick ? 500 : 2000)),
  uploadMib: Number(opt['upload-mib'] ?? (quick ? 256 : 1024)),
  only: opt.only ? opt.only.split(',') : ['sidecar', 'nginx', 'haproxy', 'node'],
  extras: !opt['no-extras'],
  accessLog: !opt['no-access-log'] && !quick,
  keyType: opt['key-type'],
};
const startedAt = Date.now();
const elapsed = () => Date.now() - startedAt;
const say = (msg) => process.stderr.write(`[bench ${(elapsed() / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

// Everything we start dies with us: on normal exit, on error, on Ctrl-C, and at the hard time limit.
const work = mkdtempSync(join(tmpdir(), 'mtls-bench-'));
process.on('exit', () => {
  killAllSync();
  rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
setTimeout(() => {
  say(`hard time limit of ${HARD_LIMIT_MS / 1000}s reached; stopping`);
  process.exit(1);
}, HARD_LIMIT_MS).unref();

async function buildShim() {
  if (!hasCommand('wrk') || !hasCommand('cc') || !existsSync('/usr/include/openssl/ssl.h')) return null;
  const out = join(work, 'client-cert-shim.so');
  const r = await runCommand('cc', ['-shared', '-fPIC', '-O2', '-o', out, join(HERE, 'client-cert-shim.c'), '-ldl']);
  if (r.status !== 0) {
    say(`shim build failed, falling back to ab: ${r.stderr.trim().slice(0, 200)}`);
    return null;
  }
  return out;
}

/** CPU seconds of the contender, and of the upstream processes, around one measurement. */
async function measured(contender, upstream, fn) {
  const c0 = treeCpuSeconds(contender.pid);
  const u0 = upstream.processes.reduce((a, p) => a + treeCpuSeconds(p.pid), 0);
  const result = await fn();
  const cpu = treeCpuSeconds(contender.pid) - c0;
  const upstreamCpu = upstream.processes.reduce((a, p) => a + treeCpuSeconds(p.pid), 0) - u0;
  return { result, cpu, upstreamCpu };
}

async function checkForwarding(contender, certs) {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const get = (withCert) => new Promise((res) => {
    const req = https.get({ host: '127.0.0.1', port: contender.port, path: '/whoami', servername: 'localhost', agent: false, ca: readFileSync(certs.ca),
      ...(withCert ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}) }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode, body: body.trim() }));
    });
    req.on('error', (e) => res({ status: 0, body: e.code ?? e.message }));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
  const ok = await get(true);
  const anon = await get(false);
  return { subjectSeen: ok.body, withCertStatus: ok.status, withoutCertStatus: anon.status, withoutCert: anon.body.slice(0, 60) };
}

async function main() {
  if (!hasCommand('taskset')) throw new Error('taskset (util-linux) is required to pin processes to CPUs');
  if (!existsSync(resolve(HERE, '..', 'dist', 'main.js'))) throw new Error('dist/main.js missing: run `npm run build` first (npm run bench does)');
  pinSelf(LOAD_CPU);
  say(`work dir ${work}; ${JSON.stringify(cfg)}`);
  const certs = await makeCertificates(work, cfg.keyType);
  const shim = await buildShim();
  const generator = shim ? 'wrk + client-cert LD_PRELOAD shim' : hasCommand('ab') ? 'ab -k -E' : null;
  if (!generator) throw new Error('need wrk (+ cc and libssl-dev for the shim) or ab (apache2-utils)');
  const upstream = await startUpstream(work, LOAD_CPU);
  say(`upstream: ${upstream.kind} on 127.0.0.1:${upstream.port} (CPU ${LOAD_CPU}); generator: ${generator}`);

  const contenders = [];
  const add = async (name, kind, start) => {
    const { port, child } = await start();
    contenders.push({ name, kind, port, pid: child.pid, child, rounds: [] });
  };
  if (cfg.only.includes('nginx') && hasCommand('nginx')) await add('nginx 1.22', 'nginx', () => startNginxContender(work, certs, upstream.port, CONTENDER_CPU));
  if (cfg.only.includes('haproxy') && hasCommand('haproxy')) await add('HAProxy', 'haproxy', () => startHaproxyContender(work, certs, upstream.port, CONTENDER_CPU));
  if (cfg.only.includes('node')) await add('plain node:https + undici Pool (reference)', 'node', () => startNodeFloor(certs, upstream.port, CONTENDER_CPU));
  if (cfg.only.includes('sidecar')) await add('mtls-sidecar', 'sidecar', () => startSidecar(certs, upstream.port, CONTENDER_CPU));
  if (cfg.only.includes('sidecar') && cfg.accessLog) {
    await add('mtls-sidecar, access log on', 'sidecar-log', () => startSidecar(certs, upstream.port, CONTENDER_CPU, { extra: ['--log-level', 'info'] }));
  }
  const load = (port, seconds, path) => (shim
    ? runWrk({ port, seconds, connections: cfg.connections, shim, certs, cpu: LOAD_CPU, path })
    : runAb({ port, seconds, connections: cfg.connections, certs, cpu: LOAD_CPU, path }));

  for (const c of contenders) {
    c.forwarding = await checkForwarding(c, certs);
    say(`${c.name}: pid ${c.pid}, port ${c.port}, forwards subject "${c.forwarding.subjectSeen}", without cert: ${c.forwarding.withoutCertStatus || c.forwarding.withoutCert}`);
    await load(c.port, 2); // warm-up (JIT, pools); not measured
  }

  for (let round = 0; round < cfg.rounds; round++) {
    // Alternate the order so no contender always runs right after the same neighbour.
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const row = { round };
      const req = await measured(c, upstream, () => load(c.port, cfg.seconds));
      const w = req.result;
      Object.assign(row, {
        requests: w.requests, rps: w.rps, p50Ms: w.p50Ms, p99Ms: w.p99Ms, non2xx: w.non2xx, socketErrors: w.socketErrors,
        cpuUsPerRequest: (req.cpu * 1e6) / w.requests,
        contenderCpuPercent: (req.cpu / w.seconds) * 100,
        upstreamCpuUsPerRequest: (req.upstreamCpu * 1e6) / w.requests,
        generatorCpuPercent: w.generatorCpuSeconds === null ? null : (w.generatorCpuSeconds / w.seconds) * 100,
      });
      if (c.kind !== 'sidecar-log') {
        const hs = cfg.handshakeSeconds;
        const n = await measured(c, upstream, () => runSTime({ port: c.port, seconds: hs, mode: 'new', certs, cpu: LOAD_CPU }));
        const chained = { ...certs, clientCert: certs.chainedClientCert, clientKey: certs.chainedClientKey };
        const nc = await measured(c, upstream, () => runSTime({ port: c.port, seconds: hs, mode: 'new', extra: ['-CAfile', certs.caAndIntermediate], certs: chained, cpu: LOAD_CPU }));
        const r12 = await measured(c, upstream, () => runSTime({ port: c.port, seconds: hs, mode: 'reuse', extra: ['-tls1_2'], certs, cpu: LOAD_CPU }));
        const r13 = await measured(c, upstream, () => runNodeResume({ port: c.port, seconds: hs, certs, version: 'TLSv1.3' }));
        Object.assign(row, {
          newHandshakes: n.result.handshakes, cpuUsPerNewHandshake: (n.cpu * 1e6) / n.result.handshakes,
          newChainedHandshakes: nc.result.handshakes, cpuUsPerNewChainedHandshake: (nc.cpu * 1e6) / nc.result.handshakes,
          resumed12: r12.result.resumed, handshakes12: r12.result.handshakes, cpuUsPerResumed12: r12.result.resumed > 0 ? (r12.cpu * 1e6) / r12.result.handshakes : null,
          resumed13: r13.result.resumed, handshakes13: r13.result.handshakes, cpuUsPerResumed13: r13.result.resumed > 0 ? (r13.cpu * 1e6) / r13.result.handshakes : null,
        });
      }
      c.rounds.push(row);
      say(`round ${round + 1}/${cfg.rounds} ${c.name}: ${row.rps.toFixed(0)} req/s, ${row.cpuUsPerRequest.toFixed(1)} µs CPU/req (contender ${row.contenderCpuPercent.toFixed(0)}% of a core, generator ${row.generatorCpuPercent?.toFixed(0) ?? '?'}%)${row.newHandshakes !== undefined ? `, ${row.cpuUsPerNewHandshake.toFixed(0)} µs/new hs (${row.newHandshakes}), ${row.cpuUsPerNewChainedHandshake.toFixed(0)} µs/new hs leaf+intermediate (${row.newChainedHandshakes}), ${row.cpuUsPerResumed12?.toFixed(0) ?? '–'} µs/resumed 1.2 (${row.resumed12}/${row.handshakes12}), ${row.cpuUsPerResumed13?.toFixed(0) ?? '–'} µs/resumed 1.3 (${row.resumed13}/${row.handshakes13})` : ''}${row.non2xx || row.socketErrors ? `, ERRORS non2xx=${row.non2xx} socket=${row.socketErrors}` : ''}`);
    }
  }
  for (const c of contenders) {
    c.peakRssMb = treeMemoryMb(c.pid, 'VmHWM');
    c.processes = processTree(c.pid).length;
    c.median = summarize(c.rounds);
  }
  const base = contenders.find((c) => c.kind === 'nginx');
  const reference = contenders.find((c) => c.kind === 'node');
  const paired = (c, b, metric) => (b ? pairedRatio(c.rounds, b.rounds, metric) : null);
  for (const c of contenders) {
    c.ratios = {
      cpuPerRequest: paired(c, base, 'cpuUsPerRequest'),
      cpuPerNewHandshake: paired(c, base, 'cpuUsPerNewHandshake'),
      cpuPerNewChainedHandshake: paired(c, base, 'cpuUsPerNewChainedHandshake'),
      cpuPerResumed12: paired(c, base, 'cpuUsPerResumed12'),
      cpuPerResumed13: paired(c, base, 'cpuUsPerResumed13'),
      peakRss: ratio(c.peakRssMb, base?.peakRssMb),
    };
    c.ratiosToReference = {
      cpuPerRequest: paired(c, reference, 'cpuUsPerRequest'),
      cpuPerNewHandshake: paired(c, reference, 'cpuUsPerNewHandshake'),
    };
  }

  if (cfg.extras) {
    // The sidecar first: its figures are the point; baselines only while time is left.
    const rank = { sidecar: 0, node: 1, nginx: 2, haproxy: 3 };
    for (const c of contenders.filter((x) => x.kind !== 'sidecar-log').sort((a, b) => rank[a.kind] - rank[b.kind])) {
      if (elapsed() > 270_000) {
        say('time budget: skipping remaining memory checks');
        break;
      }
      say(`${c.name}: opening ${cfg.idle} idle mTLS connections`);
      c.idle = await measureIdleConnections({ port: c.port, pid: c.pid, certs, count: cfg.idle, timeBudgetMs: 45_000 });
      say(`${c.name}: ${c.idle.stillOpen} open, RSS ${c.idle.rssBeforeMb.toFixed(1)} → ${c.idle.rssOpenMb.toFixed(1)} MB; streaming ${cfg.uploadMib} MiB upload`);
      c.upload = await measureUpload({ port: c.port, pid: c.pid, certs, bytes: cfg.uploadMib * 1048576, timeBudgetMs: 60_000 });
      say(`${c.name}: upload ${c.upload.ok ? 'ok' : `FAILED ${c.upload.status} ${c.upload.error ?? ''}`}, ${c.upload.mbPerSecond.toFixed(0)} MB/s, RSS growth ${c.upload.rssGrowthMb.toFixed(1)} MB`);
    }
  }
  let workers = null;
  if (cfg.extras && cfg.only.includes('sidecar') && elapsed() < 300_000) {
    say('sidecar --workers 2');
    workers = await measureWorkers({ certs, upstream, load, seconds: Math.min(cfg.seconds, 5), cpu: CONTENDER_CPU, say });
  }
  for (const c of contenders) await stopProcess(c.child);
  let grpcUnary = null;
  if (cfg.extras && cfg.only.includes('sidecar') && elapsed() < 320_000) {
    say('gRPC unary: proxied vs direct');
    grpcUnary = await measureGrpcUnary();
  }

  const table = mainTable(contenders);
  const spread = spreadTable(contenders);
  const memTable = memoryTable(contenders);
  const meta = {
    date: new Date().toISOString(), seconds: elapsed() / 1000, config: cfg, generator, upstream: upstream.kind,
    node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, loadavgAtEnd: loadavg(),
    versions: {
      nginx: hasCommand('nginx') ? (await runCommand('nginx', ['-v'])).stderr.trim() : null,
      haproxy: hasCommand('haproxy') ? (await runCommand('haproxy', ['-v'])).stdout.split('\n')[0] : null,
      openssl: (await runCommand('openssl', ['version'])).stdout.trim(),
    },
  };
  const json = {
    meta,
    contenders: contenders.map(({ child, ...c }) => c),
    workers,
    grpcUnary,
    tables: { main: table, spread, memory: memTable },
  };
  mkdirSync(dirname(opt.out), { recursive: true });
  writeFileSync(opt.out, `${JSON.stringify(json, null, 2)}\n`);
  const out = [
    `## mtls-sidecar benchmark (${meta.date}, ${meta.cpu}, ${meta.cpus} CPUs, load average at end ${meta.loadavgAtEnd.map((x) => x.toFixed(1)).join(' ')})`,
    '',
    `Contender pinned to CPU ${CONTENDER_CPU}; ${generator} (${cfg.connections} keep-alive connections, HTTP/1.1 GET) and ${upstream.kind} upstream on CPU ${LOAD_CPU}. ${cfg.keyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} certificates. Medians of ${cfg.rounds} interleaved round(s) of ${cfg.seconds}s; handshakes ${cfg.handshakeSeconds}s each. Ratios are the median of per-round ratios (each contender against nginx from the same round).`,
    '',
    table,
    '',
    spread,
    '',
    memTable,
    '',
    workers ? `--workers 2: ${workers.summary}` : '',
    grpcUnary ? grpcTable(grpcUnary) : '',
    `JSON: ${opt.out}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The gRPC unary row (bench/grpc-unary.mjs, its own process): sidecar CPU per call, proxied vs direct. */
async function measureGrpcUnary() {
  const res = await runCommand(process.execPath, [new URL('./grpc-unary.mjs', import.meta.url).pathname, '--seconds', '4', '--rounds', '2', '--json']);
  try {
    return JSON.parse(res.stdout);
  } catch {
    say(`gRPC unary failed: ${res.stderr.slice(0, 300)}`);
    return null;
  }
}

function grpcTable(g) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  return [
    `gRPC unary (${g.concurrency} calls in flight, medians of ${g.rounds} rounds of ${g.seconds}s):`,
    '| path | calls/s | p50 ms | p99 ms | sidecar CPU µs/call |',
    '|---|--:|--:|--:|--:|',
    `| through sidecar (mTLS → h2c) | ${f(g.proxied.rps)} | ${f(g.proxied.p50Ms, 2)} | ${f(g.proxied.p99Ms, 2)} | ${f(g.proxied.sidecarCpuUsPerCall)} |`,
    `| direct (h2c) | ${f(g.direct.rps)} | ${f(g.direct.p50Ms, 2)} | ${f(g.direct.p99Ms, 2)} | - |`,
    '',
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    say(`failed: ${err.stack ?? err}`);
    process.exit(1);
  },
);
