// A/B benchmark of sidecar builds: several dist/ snapshots (and node flags) against nginx in one interleaved run, CPU
// per request and per handshake, RSS. Usage: node test/perf/ab.mjs --variant NAME=DIR[|--node-flag|ENV=VALUE ...]
// [--variant ...] [--rounds N] [--seconds S] [--handshake-seconds S] [--connections N] [--idle N] [--no-nginx] [--extra
// "--log-level info"] DIR holds dist/main.js (built by test/perf/snapshot.sh); the first variant is the one the others
// are compared with.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { makeCertificates } from '../../bench/lib/certs.mjs';
import { sidecarArgs, startNginxContender, startUpstream } from '../../bench/lib/contenders.mjs';
import { measureIdleConnections } from '../../bench/lib/extras.mjs';
import { buildClientCertShim, runSTime, runWrk } from '../../bench/lib/load.mjs';
import {
  freePort,
  pinSelf,
  scratchDir,
  sleep,
  startProcess,
  stopProcess,
  treeCpuSeconds,
  treeMemoryMb,
  waitForPort,
} from '../../bench/lib/procs.mjs';
import { median } from '../../bench/lib/report.mjs';

const { values: opt } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'handshake-seconds': { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    idle: { type: 'string', default: '0' },
    'no-nginx': { type: 'boolean', default: false },
    'no-handshakes': { type: 'boolean', default: false },
    extra: { type: 'string', default: '' },
  },
});

const work = scratchDir('mtls-ab-');
const say = (m) => process.stderr.write(`[ab] ${m}\n`);

function parseVariant(spec) {
  const [head, ...flags] = spec.split('|');
  const eq = head.indexOf('=');
  const name = head.slice(0, eq);
  const dir = resolve(head.slice(eq + 1));
  if (!existsSync(join(dir, 'dist', 'main.js'))) throw new Error(`${dir}/dist/main.js missing`);
  // NAME=VALUE items (no leading --) are environment variables for the sidecar, the rest node flags.
  const env = Object.fromEntries(
    flags
      .filter((f) => /^[A-Z_][A-Z0-9_]*=/.test(f))
      .map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]),
  );
  return { name, dir, env, nodeFlags: flags.filter((f) => f !== '' && !/^[A-Z_][A-Z0-9_]*=/.test(f)) };
}

async function startVariant(v, certs, upstreamPort) {
  const port = await freePort();
  const args = sidecarArgs(certs, port, upstreamPort, opt.extra ? opt.extra.split(' ') : []);
  args[0] = join(v.dir, 'dist', 'main.js');
  const child = startProcess(process.execPath, [...v.nodeFlags, ...args], {
    cpu: 0,
    env: v.env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 20_000, child);
  await sleep(300);
  return { ...v, port, pid: child.pid, child, rssAfterStartMb: treeMemoryMb(child.pid, 'VmRSS'), rounds: [] };
}

async function main() {
  pinSelf(1);
  const certs = await makeCertificates(work, 'ec');
  const shim = await buildClientCertShim(work);
  const upstream = await startUpstream(work, 1);
  const contenders = [];
  if (!opt['no-nginx']) {
    const n = await startNginxContender(work, certs, upstream.port, 0);
    contenders.push({ name: 'nginx', port: n.port, pid: n.child.pid, child: n.child, rounds: [] });
  }
  for (const spec of opt.variant) contenders.push(await startVariant(parseVariant(spec), certs, upstream.port));
  const seconds = Number(opt.seconds);
  const hs = Number(opt['handshake-seconds']);
  const load = (port, s) => runWrk({ port, seconds: s, connections: Number(opt.connections), shim, certs, cpu: 1 });
  for (const c of contenders) await load(c.port, 2);
  const cpuOf = async (c, fn) => {
    const c0 = treeCpuSeconds(c.pid);
    const r = await fn();
    return { r, cpu: treeCpuSeconds(c.pid) - c0 };
  };
  for (let round = 0; round < Number(opt.rounds); round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const w = await cpuOf(c, () => load(c.port, seconds));
      const row = {
        rps: w.r.rps,
        p99Ms: w.r.p99Ms,
        cpuUsPerRequest: (w.cpu * 1e6) / w.r.requests,
        errors: w.r.non2xx + w.r.socketErrors,
      };
      if (!opt['no-handshakes']) {
        const n = await cpuOf(c, () => runSTime({ port: c.port, seconds: hs, mode: 'new', certs, cpu: 1 }));
        const r = await cpuOf(c, () =>
          runSTime({ port: c.port, seconds: hs, mode: 'reuse', extra: ['-tls1_2'], certs, cpu: 1 }),
        );
        const chained = { ...certs, clientCert: certs.chainedClientCert, clientKey: certs.chainedClientKey };
        const nc = await cpuOf(c, () =>
          runSTime({
            port: c.port,
            seconds: hs,
            mode: 'new',
            extra: ['-CAfile', certs.caAndIntermediate],
            certs: chained,
            cpu: 1,
          }),
        );
        row.cpuUsPerNew = (n.cpu * 1e6) / n.r.handshakes;
        row.cpuUsPerNewChained = (nc.cpu * 1e6) / nc.r.handshakes;
        row.cpuUsPerResumed12 = r.r.resumed > 0 ? (r.cpu * 1e6) / r.r.handshakes : null;
      }
      c.rounds.push(row);
      say(
        `round ${round + 1} ${c.name}: ${row.rps.toFixed(0)} req/s, ${row.cpuUsPerRequest.toFixed(1)} µs/req, new ${row.cpuUsPerNew?.toFixed(0) ?? '–'} µs, new leaf+intermediate ${row.cpuUsPerNewChained?.toFixed(0) ?? '–'} µs, resumed ${row.cpuUsPerResumed12?.toFixed(0) ?? '–'} µs${row.errors ? `, ERRORS ${row.errors}` : ''}`,
      );
    }
  }
  for (const c of contenders) c.peakRssMb = treeMemoryMb(c.pid, 'VmHWM');
  if (Number(opt.idle) > 0) {
    for (const c of contenders) {
      c.idleResult = await measureIdleConnections({
        port: c.port,
        pid: c.pid,
        certs,
        count: Number(opt.idle),
        timeBudgetMs: 45_000,
      });
      say(`${c.name}: ${c.idleResult.stillOpen} idle open, RSS ${c.idleResult.rssOpenMb.toFixed(1)} MB`);
    }
  }
  const med = (c, k) => median(c.rounds.map((r) => r[k]));
  const nginx = contenders.find((c) => c.name === 'nginx');
  const first = contenders.find((c) => c.name !== 'nginx');
  const f = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');
  const r = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  const lines = [
    `A/B, ${opt.rounds} interleaved rounds of ${seconds}s, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
    '',
    '| contender | req/s | µs CPU/req | ×nginx | ×first | µs/new hs | ×nginx | ×first | µs/new hs, leaf + intermediate | ×first | µs/resumed 1.2 | ×nginx | RSS after start MB | peak RSS MB | idle-conn RSS MB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of contenders) {
    const req = med(c, 'cpuUsPerRequest');
    const nw = med(c, 'cpuUsPerNew');
    const rs = med(c, 'cpuUsPerResumed12');
    const nc = med(c, 'cpuUsPerNewChained');
    lines.push(
      `| ${c.name} | ${f(med(c, 'rps'), 0)} | ${f(req)} | ${r(req, nginx && med(nginx, 'cpuUsPerRequest'))} | ${r(req, med(first, 'cpuUsPerRequest'))} | ${f(nw, 0)} | ${r(nw, nginx && med(nginx, 'cpuUsPerNew'))} | ${r(nw, med(first, 'cpuUsPerNew'))} | ${f(nc, 0)} | ${r(nc, med(first, 'cpuUsPerNewChained'))} | ${f(rs, 0)} | ${r(rs, nginx && med(nginx, 'cpuUsPerResumed12'))} | ${f(c.rssAfterStartMb)} | ${f(c.peakRssMb)} | ${f(c.idleResult?.rssOpenMb)} |`,
    );
  }
  for (const c of contenders) await stopProcess(c.child);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    say(`failed: ${err.stack ?? err}`);
    process.exit(1);
  },
);
