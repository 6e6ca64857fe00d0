// `npm run bench`: the sidecar against the plain Node floor, nginx, HAProxy and Caddy on the same mTLS proxy job — CPU
// per request and per handshake, HTTP/2 and gRPC, latency, memory. Usage: node bench/run.mjs [--quick] [--rounds N]
// [--seconds S] [--handshake-seconds S] [--h2-seconds S] [--connections N] [--idle N] [--upload-mib N] [--only
// sidecar,nginx,haproxy,caddy,node,node-h2compat,node-fastify] [--no-extras] [--no-h2] (node-fastify, the floor with
// fastify in front, runs only when named in --only) [--no-access-log] [--key-type ec|rsa] [--out FILE]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import {
  SHIPPED_NODE_ENV,
  SHIPPED_NODE_FLAGS,
  startCaddyContender,
  startGrpcUpstream,
  startHaproxyContender,
  startNginxContender,
  startNodeFastifyFloor,
  startNodeFloor,
  startSidecar,
  startUpstream,
} from './lib/contenders.mjs';
import { measureIdleConnections, measureUpload } from './lib/extras.mjs';
import { buildClientCertShim, runAb, runNodeResume, runSTime, runWrk } from './lib/load.mjs';
import {
  hasCommand,
  pinSelf,
  processTree,
  runCommand,
  scratchDir,
  stopProcess,
  treeCpuSeconds,
  treeMemoryMb,
} from './lib/procs.mjs';
import { h2Table, measureH2Rows } from './lib/h2-rows.mjs';
import { handshakeTable, mainTable, memoryTable, ratiosAgainst, summarize } from './lib/report.mjs';
import { measureWorkers } from './lib/workers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTENDER_CPU = 0;
const LOAD_CPU = 1;
const HARD_LIMIT_MS = 600_000;

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'handshake-seconds': { type: 'string' },
    connections: { type: 'string', default: '32' },
    idle: { type: 'string' },
    'upload-mib': { type: 'string' },
    'h2-seconds': { type: 'string' },
    only: { type: 'string' },
    'no-extras': { type: 'boolean', default: false },
    'no-h2': { type: 'boolean', default: false },
    'no-access-log': { type: 'boolean', default: false },
    'key-type': { type: 'string', default: 'ec' },
    out: { type: 'string', default: join(HERE, 'results', 'latest.json') },
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
  h2Seconds: Number(opt['h2-seconds'] ?? (quick ? 2 : 3)),
  only: opt.only ? opt.only.split(',') : ['sidecar', 'nginx', 'haproxy', 'caddy', 'node', 'node-h2compat'],
  extras: !opt['no-extras'],
  h2: !opt['no-h2'],
  accessLog: !opt['no-access-log'] && !quick,
  keyType: opt['key-type'],
};
const startedAt = Date.now();
const elapsed = () => Date.now() - startedAt;
const say = (msg) => process.stderr.write(`[bench ${(elapsed() / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

// Everything we start dies with us: on normal exit, on error, on Ctrl-C, and at the hard time limit.
const work = scratchDir('mtls-bench-', { signals: ['SIGHUP'] });
setTimeout(() => {
  say(`hard time limit of ${HARD_LIMIT_MS / 1000}s reached; stopping`);
  process.exit(1);
}, HARD_LIMIT_MS).unref();

async function buildShim() {
  if (!hasCommand('wrk') || !hasCommand('cc') || !existsSync('/usr/include/openssl/ssl.h')) return null;
  try {
    return await buildClientCertShim(work);
  } catch (err) {
    say(`${err.message}; falling back to ab`);
    return null;
  }
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
  const get = (withCert) =>
    new Promise((res) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: contender.port,
          path: '/whoami',
          servername: 'localhost',
          agent: false,
          ca: readFileSync(certs.ca),
          ...(withCert ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
        },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => res({ status: r.statusCode, body: body.trim() }));
        },
      );
      req.on('error', (e) => res({ status: 0, body: e.code ?? e.message }));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    });
  const ok = await get(true);
  const anon = await get(false);
  return {
    subjectSeen: ok.body,
    withCertStatus: ok.status,
    withoutCertStatus: anon.status,
    withoutCert: anon.body.slice(0, 60),
  };
}

async function main() {
  if (!hasCommand('taskset')) throw new Error('taskset (util-linux) is required to pin processes to CPUs');
  if (!existsSync(resolve(HERE, '..', 'dist', 'main.js')))
    throw new Error('dist/main.js missing: run `npm run build` first (npm run bench does)');
  pinSelf(LOAD_CPU);
  say(`work dir ${work}; ${JSON.stringify(cfg)}`);
  const certs = await makeCertificates(work, cfg.keyType);
  const shim = await buildShim();
  const generator = shim ? 'wrk + client-cert LD_PRELOAD shim' : hasCommand('ab') ? 'ab -k -E' : null;
  if (!generator) throw new Error('need wrk (+ cc and libssl-dev for the shim) or ab (apache2-utils)');
  const upstream = await startUpstream(work, LOAD_CPU);
  const grpcUpstream = cfg.h2 ? await startGrpcUpstream(LOAD_CPU) : null;
  const h2load = cfg.h2 && shim && hasCommand('h2load');
  say(
    `upstream: ${upstream.kind} on 127.0.0.1:${upstream.port} (CPU ${LOAD_CPU}); generator: ${generator}${cfg.h2 && !h2load ? '; h2load missing (apt-get install nghttp2-client): no HTTP/2 rows' : ''}`,
  );

  const contenders = [];
  const add = async (name, kind, start) => {
    const { port, child } = await start();
    contenders.push({ name, kind, port, pid: child.pid, child, rounds: [] });
  };
  const want = (kind, command) =>
    cfg.only.includes(kind) &&
    (!command || hasCommand(command) || void say(`${command} not installed: no ${kind} row`));
  if (want('nginx', 'nginx'))
    await add('nginx 1.22', 'nginx', () =>
      startNginxContender(work, certs, upstream.port, CONTENDER_CPU, grpcUpstream?.port),
    );
  if (want('haproxy', 'haproxy'))
    await add('HAProxy 2.6', 'haproxy', () => startHaproxyContender(work, certs, upstream.port, CONTENDER_CPU));
  if (want('caddy', 'caddy'))
    await add('Caddy 2.6', 'caddy', () => startCaddyContender(work, certs, upstream.port, CONTENDER_CPU));
  if (want('node'))
    await add('plain Node floor (https + undici pool.stream)', 'node', () =>
      startNodeFloor(certs, upstream.port, CONTENDER_CPU),
    );
  if (want('node-h2compat'))
    await add('plain Node floor on http2 allowHTTP1 listener', 'node-h2compat', () =>
      startNodeFloor(certs, upstream.port, CONTENDER_CPU, { listener: 'h2compat' }),
    );
  if (want('node-fastify'))
    await add('plain Node floor behind fastify (route + hook + hijack)', 'node-fastify', () =>
      startNodeFastifyFloor(certs, upstream.port, CONTENDER_CPU),
    );
  if (want('sidecar'))
    await add('**mtls-sidecar** (`--log-level warn`)', 'sidecar', () =>
      startSidecar(certs, upstream.port, CONTENDER_CPU),
    );
  if (want('sidecar') && cfg.accessLog) {
    await add('mtls-sidecar, access log on (default)', 'sidecar-log', () =>
      startSidecar(certs, upstream.port, CONTENDER_CPU, { extra: ['--log-level', 'info'] }),
    );
  }
  const load = (port, seconds, path) =>
    shim
      ? runWrk({ port, seconds, connections: cfg.connections, shim, certs, cpu: LOAD_CPU, path })
      : runAb({ port, seconds, connections: cfg.connections, certs, cpu: LOAD_CPU, path });

  for (const c of contenders) {
    c.forwarding = await checkForwarding(c, certs);
    say(
      `${c.name}: pid ${c.pid}, port ${c.port}, forwards subject "${c.forwarding.subjectSeen}", without cert: ${c.forwarding.withoutCertStatus || c.forwarding.withoutCert}`,
    );
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
        requests: w.requests,
        rps: w.rps,
        p50Ms: w.p50Ms,
        p99Ms: w.p99Ms,
        non2xx: w.non2xx,
        socketErrors: w.socketErrors,
        cpuUsPerRequest: (req.cpu * 1e6) / w.requests,
        contenderCpuPercent: (req.cpu / w.seconds) * 100,
        upstreamCpuUsPerRequest: (req.upstreamCpu * 1e6) / w.requests,
        generatorCpuPercent: w.generatorCpuSeconds === null ? null : (w.generatorCpuSeconds / w.seconds) * 100,
      });
      if (HANDSHAKE_KINDS.has(c.kind)) Object.assign(row, await measureHandshakes(c, upstream, certs));
      c.rounds.push(row);
      say(
        `round ${round + 1}/${cfg.rounds} ${c.name}: ${row.rps.toFixed(0)} req/s, ${row.cpuUsPerRequest.toFixed(1)} µs CPU/req (contender ${row.contenderCpuPercent.toFixed(0)}% of a core, generator ${row.generatorCpuPercent?.toFixed(0) ?? '?'}%)${row.newHandshakes !== undefined ? `, ${row.cpuUsPerNewHandshake.toFixed(0)} µs/new hs (${row.newHandshakes}), ${row.cpuUsPerNewChainedHandshake.toFixed(0)} µs/new hs leaf+intermediate (${row.newChainedHandshakes}), ${row.cpuUsPerResumed12?.toFixed(0) ?? '–'} µs/resumed 1.2 (${row.resumed12}/${row.handshakes12}), ${row.cpuUsPerResumed13?.toFixed(0) ?? '–'} µs/resumed 1.3 (${row.resumed13}/${row.handshakes13})` : ''}${row.non2xx || row.socketErrors ? `, ERRORS non2xx=${row.non2xx} socket=${row.socketErrors}` : ''}`,
      );
    }
  }
  const byKind = (kind) => contenders.find((c) => c.kind === kind);
  for (const c of contenders) {
    c.peakRssMb = treeMemoryMb(c.pid, 'VmHWM');
    c.processes = processTree(c.pid).length;
    c.median = summarize(c.rounds);
    c.ratios = {
      nginx: ratiosAgainst(c, byKind('nginx')),
      node: ratiosAgainst(c, byKind('node')),
      caddy: ratiosAgainst(c, byKind('caddy')),
    };
  }

  let h2 = null;
  if (h2load) {
    say('HTTP/2 and gRPC unary rows (h2load)');
    h2 = await measureH2Rows({
      work,
      certs,
      shim,
      upstream,
      grpcUpstream,
      sidecar: byKind('sidecar'),
      nginx: byKind('nginx'),
      cpu: CONTENDER_CPU,
      loadCpu: LOAD_CPU,
      rounds: cfg.rounds,
      seconds: cfg.h2Seconds,
      clients: 16,
      streams: 4,
      say,
    });
  }

  if (cfg.extras) {
    // The sidecar first: its figures are the point; baselines only while time is left.
    const rank = ['sidecar', 'node', 'nginx', 'caddy', 'haproxy'];
    for (const c of contenders
      .filter((x) => rank.includes(x.kind))
      .sort((a, b) => rank.indexOf(a.kind) - rank.indexOf(b.kind))) {
      // Each check gets at most half of what is left before the hard limit (less a margin for the report).
      const left = HARD_LIMIT_MS - 60_000 - elapsed();
      if (left < 30_000) {
        say('time budget: skipping remaining memory checks');
        break;
      }
      say(`${c.name}: opening ${cfg.idle} idle mTLS connections`);
      c.idle = await measureIdleConnections({
        port: c.port,
        pid: c.pid,
        certs,
        count: cfg.idle,
        timeBudgetMs: Math.min(45_000, left / 2),
      });
      say(
        `${c.name}: ${c.idle.stillOpen} open, RSS ${c.idle.rssBeforeMb.toFixed(1)} → ${c.idle.rssOpenMb.toFixed(1)} MB, ${c.idle.rssAfterCloseMb.toFixed(1)} MB after they closed; streaming ${cfg.uploadMib} MiB upload`,
      );
      c.upload = await measureUpload({
        port: c.port,
        pid: c.pid,
        certs,
        bytes: cfg.uploadMib * 1048576,
        timeBudgetMs: Math.min(60_000, Math.max(10_000, HARD_LIMIT_MS - 60_000 - elapsed())),
      });
      say(
        `${c.name}: upload ${c.upload.ok ? 'ok' : `FAILED ${c.upload.status} ${c.upload.error ?? ''}`}, ${c.upload.mbPerSecond.toFixed(0)} MB/s, RSS growth ${c.upload.rssGrowthMb.toFixed(1)} MB`,
      );
    }
  }
  let workers = null;
  if (cfg.extras && cfg.only.includes('sidecar') && elapsed() < HARD_LIMIT_MS - 90_000) {
    say('sidecar --workers 2');
    workers = await measureWorkers({
      certs,
      upstream,
      load,
      seconds: Math.min(cfg.seconds, 5),
      cpu: CONTENDER_CPU,
      say,
    });
  }
  for (const c of contenders) await stopProcess(c.child);

  const tables = {
    main: mainTable(contenders),
    handshakes: handshakeTable(contenders),
    memory: memoryTable(contenders),
    h2: h2 ? h2Table(h2) : null,
  };
  const meta = {
    date: new Date().toISOString(),
    seconds: elapsed() / 1000,
    config: cfg,
    generator,
    upstream: upstream.kind,
    node: process.version,
    nodeFlags: SHIPPED_NODE_FLAGS,
    nodeEnv: SHIPPED_NODE_ENV,
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    loadavgAtEnd: loadavg(),
    versions: {
      nginx: hasCommand('nginx') ? (await runCommand('nginx', ['-v'])).stderr.trim() : null,
      haproxy: hasCommand('haproxy') ? (await runCommand('haproxy', ['-v'])).stdout.split('\n')[0] : null,
      caddy: hasCommand('caddy') ? (await runCommand('caddy', ['version'])).stdout.trim() : null,
      openssl: (await runCommand('openssl', ['version'])).stdout.trim(),
    },
  };
  const json = { meta, contenders: contenders.map(({ child, ...c }) => c), workers, h2, tables };
  mkdirSync(dirname(opt.out), { recursive: true });
  writeFileSync(opt.out, `${JSON.stringify(json, null, 2)}\n`);
  const out = [
    `## mtls-sidecar benchmark (${meta.date}, ${meta.cpu}, ${meta.cpus} CPUs, load average at end ${meta.loadavgAtEnd.map((x) => x.toFixed(1)).join(' ')}; ${(meta.seconds / 60).toFixed(1)} min)`,
    '',
    `Contender pinned to CPU ${CONTENDER_CPU}; ${generator} (${cfg.connections} keep-alive connections, HTTP/1.1 GET) and ${upstream.kind} upstream on CPU ${LOAD_CPU}. Node contenders: ${process.version} (${process.execPath}), ${[...Object.entries(SHIPPED_NODE_ENV).map(([k, v]) => `${k}=${v}`), ...SHIPPED_NODE_FLAGS].join(' ')}. ${cfg.keyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} certificates. Medians of ${cfg.rounds} interleaved round(s) of ${cfg.seconds}s; handshakes ${cfg.handshakeSeconds}s each. Every ratio is the median of per-round ratios (each contender against the base measured in the same round), with the range of those per-round ratios.`,
    '',
    tables.main,
    '',
    tables.handshakes,
    '',
    tables.memory,
    '',
    tables.h2 ?? '',
    '',
    workers
      ? `--workers 2: ${workers.summary}`
      : cfg.extras && cfg.only.includes('sidecar')
        ? '--workers 2: skipped (time budget)'
        : '',
    `JSON: ${opt.out}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const HANDSHAKE_KINDS = new Set(['nginx', 'haproxy', 'caddy', 'node', 'sidecar']);

/**
 * CPU per new handshake (leaf only; leaf + intermediate), per resumed TLS 1.2 (s_time -reuse) and TLS 1.3 (node
 * client).
 */
async function measureHandshakes(c, upstream, certs) {
  const hs = cfg.handshakeSeconds;
  const n = await measured(c, upstream, () =>
    runSTime({ port: c.port, seconds: hs, mode: 'new', certs, cpu: LOAD_CPU }),
  );
  const chained = { ...certs, clientCert: certs.chainedClientCert, clientKey: certs.chainedClientKey };
  const nc = await measured(c, upstream, () =>
    runSTime({
      port: c.port,
      seconds: hs,
      mode: 'new',
      extra: ['-CAfile', certs.caAndIntermediate],
      certs: chained,
      cpu: LOAD_CPU,
    }),
  );
  const r12 = await measured(c, upstream, () =>
    runSTime({ port: c.port, seconds: hs, mode: 'reuse', extra: ['-tls1_2'], certs, cpu: LOAD_CPU }),
  );
  const r13 = await measured(c, upstream, () =>
    runNodeResume({ port: c.port, seconds: hs, certs, version: 'TLSv1.3' }),
  );
  return {
    newHandshakes: n.result.handshakes,
    cpuUsPerNewHandshake: (n.cpu * 1e6) / n.result.handshakes,
    newChainedHandshakes: nc.result.handshakes,
    cpuUsPerNewChainedHandshake: (nc.cpu * 1e6) / nc.result.handshakes,
    resumed12: r12.result.resumed,
    handshakes12: r12.result.handshakes,
    cpuUsPerResumed12: r12.result.resumed > 0 ? (r12.cpu * 1e6) / r12.result.handshakes : null,
    resumed13: r13.result.resumed,
    handshakes13: r13.result.handshakes,
    cpuUsPerResumed13: r13.result.resumed > 0 ? (r13.cpu * 1e6) / r13.result.handshakes : null,
  };
}

main().then(
  () => process.exit(0),
  (err) => {
    say(`failed: ${err.stack ?? err}`);
    process.exit(1);
  },
);
