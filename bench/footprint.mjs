// Memory footprint of the sidecar under Node flags: peak RSS and CPU per request at 32 keep-alive connections, then
// 2,000 idle mTLS connections and RSS after they close, for each variant in interleaved rounds (a fresh process each).
// Usage: node bench/footprint.mjs [--rounds N] [--seconds S] [--handshakes S] [--idle N] [--variants default,semi2,...]
//   variants: default (Node's own settings, no flag), shipped (SHIPPED_NODE_FLAGS and SHIPPED_NODE_ENV, what the image
//   runs), semiN (--max-semi-space-size=N), oldN (--max-old-space-size=N), hgN (--heap-growing-percent=N: the old
//   generation's next limit is (1 + N/100) × what survived the last full GC, instead of V8's choice of up to 4×), st
//   (--single-threaded-gc), single (--single-threaded), saver (--memory-saver-mode), ncr
//   (--no-concurrent-recompilation: optimizing compiles on the main thread, one at a time), poolN
//   (--v8-pool-size=N), ofs (--optimize-for-size), liteN (--lite-mode when N is 1), maxoptN (--max-opt=N: 2 stops
//   at Maglev, no TurboFan), nomaglev (--no-maglev: TurboFan alone), nopret
// (--no-allocation-site-pretenuring), pret (--allocation-site-pretenuring: after the shipped flags, turns it back on),
// arenaN (MALLOC_ARENA_MAX=N), uvN (UV_THREADPOOL_SIZE=N), trimK / mmapK / topK (glibc.malloc.trim_threshold /
// mmap_threshold / top_pad = K KiB in GLIBC_TUNABLES), cg256 (inside a 256 MiB memory cgroup, v1 or v2, created under
// the current one when writable), floor (the plain Node floor instead of the sidecar; it always starts with the shipped
// flags, which later parts override), combinations joined by '+'. --handshakes S adds S seconds of new handshakes
// (openssl s_time, 4 at once) and S of resumed TLS 1.3 ones (16 at once) after the request load, as `npm run bench`
// does before it reads the peak; peak32 is then read after them.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { SHIPPED_NODE_ENV, SHIPPED_NODE_FLAGS, sidecarArgs, startNodeFloor, startUpstream } from './lib/contenders.mjs';
import { measureIdleConnections } from './lib/extras.mjs';
import { buildClientCertShim, runNodeResume, runSTime, runWrk } from './lib/load.mjs';
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
} from './lib/procs.mjs';
import { median } from './lib/report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    handshakes: { type: 'string', default: '0' },
    idle: { type: 'string', default: '2000' },
    variants: { type: 'string', default: 'shipped,default,semi1,semi2,semi8' },
  },
});
const rounds = Number(opt.rounds);
const seconds = Number(opt.seconds);
const variants = opt.variants.split(',');
const say = (m) => process.stderr.write(`[footprint] ${m}\n`);

let cgroupDir = null;
const work = scratchDir('mtls-footprint-', {
  onExit() {
    if (cgroupDir)
      try {
        rmdirSync(cgroupDir);
      } catch {
        /* still has a member; the kernel frees it when empty */
      }
  },
});

/** A 256 MiB memory cgroup below our own (cgroup v1 memory controller or v2), or null when not writable. */
function memoryCgroup() {
  const v1 = readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:memory:(.*)$/m);
  const candidates = v1 ? [join('/sys/fs/cgroup/memory', v1[1]), '/sys/fs/cgroup/memory'] : ['/sys/fs/cgroup'];
  for (const base of candidates) {
    const dir = join(base, `mtls-footprint-${process.pid}`);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(256 * 1024 * 1024));
      return dir;
    } catch {
      /* try the next */
    }
  }
  return null;
}

const TUNABLES = { trim: 'trim_threshold', mmap: 'mmap_threshold', top: 'top_pad' };

/** The Node flags and environment of a variant, e.g. 'semi2+st+arena2'. */
function variantSetup(variant) {
  const flags = [];
  const env = {};
  const tunables = [];
  for (const part of variant.split('+')) {
    const [, name, n] = part.match(/^([a-z]+)(\d*)$/) ?? [];
    if (part === 'shipped') {
      flags.push(...SHIPPED_NODE_FLAGS);
      Object.assign(env, SHIPPED_NODE_ENV);
    } else if (name === 'semi' || name === 'old') flags.push(`--max-${name}-space-size=${n}`);
    else if (name === 'hg') flags.push(`--heap-growing-percent=${n}`);
    else if (part === 'st') flags.push('--single-threaded-gc');
    else if (part === 'single') flags.push('--single-threaded');
    else if (part === 'saver') flags.push('--memory-saver-mode');
    else if (part === 'ncr') flags.push('--no-concurrent-recompilation');
    else if (name === 'pool') flags.push(`--v8-pool-size=${n}`);
    else if (part === 'ofs') flags.push('--optimize-for-size');
    else if (part === 'lite1') flags.push('--lite-mode');
    else if (name === 'maxopt') flags.push(`--max-opt=${n}`);
    else if (part === 'nomaglev') flags.push('--no-maglev');
    else if (part === 'nopret') flags.push('--no-allocation-site-pretenuring');
    else if (part === 'pret') flags.push('--allocation-site-pretenuring');
    else if (name === 'arena') env.MALLOC_ARENA_MAX = n;
    else if (name === 'uv') env.UV_THREADPOOL_SIZE = n;
    else if (name in TUNABLES) tunables.push(`glibc.malloc.${TUNABLES[name]}=${Number(n) * 1024}`);
    else if (!['default', 'floor', 'cg256'].includes(part)) throw new Error(`unknown variant part: ${part}`);
  }
  if (tunables.length > 0) env.GLIBC_TUNABLES = [env.GLIBC_TUNABLES, ...tunables].filter(Boolean).join(':');
  return { flags, env };
}

async function startVariant(variant, certs, upstreamPort) {
  const { flags, env } = variantSetup(variant);
  if (variant.split('+').includes('floor')) return startNodeFloor(certs, upstreamPort, 0, { nodeFlags: flags, env });
  const port = await freePort();
  const args = [...flags, ...sidecarArgs(certs, port, upstreamPort)];
  const inCgroup = variant.split('+').includes('cg256');
  if (inCgroup && !cgroupDir) throw new Error('cg256: cannot create a memory cgroup here');
  const child = inCgroup
    ? startProcess('sh', ['-c', `echo $$ > ${cgroupDir}/cgroup.procs && exec "$0" "$@"`, process.execPath, ...args], {
        cpu: 0,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : startProcess(process.execPath, args, { cpu: 0, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, 20_000, child);
  return { port, child };
}

async function oneRound(variant, ctx) {
  const { port, child } = await startVariant(variant, ctx.certs, ctx.upstream.port);
  try {
    await sleep(500);
    const rssStart = treeMemoryMb(child.pid, 'VmRSS');
    const load = (s) => runWrk({ port, seconds: s, connections: 32, shim: ctx.shim, certs: ctx.certs, cpu: 1 });
    await load(2);
    const c0 = treeCpuSeconds(child.pid);
    const w = await load(seconds);
    const cpuUsPerReq = ((treeCpuSeconds(child.pid) - c0) * 1e6) / w.requests;
    const peakRequests = treeMemoryMb(child.pid, 'VmHWM');
    const hs = Number(opt.handshakes);
    if (hs > 0) {
      await runSTime({ port, seconds: hs, mode: 'new', certs: ctx.certs, cpu: 1 });
      await runNodeResume({ port, seconds: hs, certs: ctx.certs, version: 'TLSv1.3' });
    }
    const peak32 = treeMemoryMb(child.pid, 'VmHWM');
    const rssAfterLoad = treeMemoryMb(child.pid, 'VmRSS');
    const idle =
      Number(opt.idle) > 0
        ? await measureIdleConnections({ port, pid: child.pid, certs: ctx.certs, count: Number(opt.idle) })
        : {};
    await sleep(1500);
    return {
      variant,
      rps: w.rps,
      errors: w.socketErrors + w.non2xx,
      cpuUsPerReq,
      rssStart,
      peakRequests,
      peak32,
      rssAfterLoad,
      idleOpened: idle.opened,
      idleBefore: idle.rssBeforeMb,
      idleOpen: idle.rssOpenMb,
      idlePeak: idle.peakRssMb,
      kbPerConn: idle.kbPerConnection,
      rssAfterClose: treeMemoryMb(child.pid, 'VmRSS'),
    };
  } finally {
    await stopProcess(child);
  }
}

async function main() {
  if (!existsSync(join(HERE, '..', 'dist', 'main.js')))
    throw new Error('dist/main.js missing: run `npm run build` first');
  pinSelf(1);
  if (variants.some((v) => v.includes('cg256'))) cgroupDir = memoryCgroup();
  const ctx = {
    certs: await makeCertificates(work, 'ec'),
    shim: await buildClientCertShim(work),
    upstream: await startUpstream(work, 1),
  };
  say(
    `node ${process.version}; variants ${variants.join(', ')}; ${rounds} rounds of ${seconds}s; cgroup ${cgroupDir ?? 'none'}`,
  );
  const results = [];
  for (let r = 0; r < rounds; r += 1) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const res = { round: r, ...(await oneRound(v, ctx)) };
      say(JSON.stringify(res, (k, x) => (typeof x === 'number' ? Math.round(x * 10) / 10 : x)));
      results.push(res);
    }
  }
  const base = variants[0];
  const fmt = (x, d = 1) => (x == null ? '–' : x.toFixed(d));
  console.log(
    `| variant | CPU µs/req | CPU ×${base} (per round) | RSS at start MB | peak RSS 32 conns, requests MB | ` +
      `peak RSS 32 conns${Number(opt.handshakes) > 0 ? ' + handshakes' : ''} MB (range) | RSS with ${opt.idle} idle MB | ` +
      `KB/idle conn | peak MB | RSS after close MB |`,
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const v of variants) {
    const mine = results.filter((x) => x.variant === v);
    const ratios = mine.map(
      (x) => x.cpuUsPerReq / results.find((y) => y.variant === base && y.round === x.round).cpuUsPerReq,
    );
    const m = (k) => median(mine.map((x) => x[k]));
    console.log(
      `| ${v} | ${fmt(m('cpuUsPerReq'))} | ${fmt(median(ratios), 3)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) | ` +
        `${fmt(m('rssStart'))} | ${fmt(m('peakRequests'))} | ` +
        `${fmt(m('peak32'))} (${fmt(Math.min(...mine.map((x) => x.peak32)))}–${fmt(Math.max(...mine.map((x) => x.peak32)))}) | ` +
        `${fmt(m('idleOpen'))} | ${fmt(m('kbPerConn'))} | ${fmt(m('idlePeak'))} | ${fmt(m('rssAfterClose'))} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    say(e.stack ?? String(e));
    process.exit(1);
  },
);
