// Garbage collection per request, from V8's own --trace-gc lines: the sidecar and the plain Node floor under the same
// keep-alive load (32 connections, wrk with the client-certificate shim), each with the shipped runtime plus any extra
// Node flags, one after the other. Pauses are the stop-the-world part V8 reports for each collection; the incremental
// marking steps a full collection also runs on the main thread (its "+ X ms in N steps") are not added.
// Usage: node bench/gc-trace.mjs [--seconds S] [--flags="--allocation-site-pretenuring ..."] [--who sidecar,floor]
// (a later V8 flag wins: --allocation-site-pretenuring turns back on what the shipped runtime turns off)
import { existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { SHIPPED_NODE_ENV, SHIPPED_NODE_FLAGS, startSidecar, startUpstream } from './lib/contenders.mjs';
import { buildClientCertShim, runWrk } from './lib/load.mjs';
import { freePort, pinSelf, scratchDir, startProcess, stopProcess, treeCpuSeconds, waitForPort } from './lib/procs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    flags: { type: 'string', default: '' },
    who: { type: 'string', default: 'sidecar,floor' },
  },
});
const work = scratchDir('mtls-gctrace-');

// V8 prints --trace-gc through C stdio, which buffers a file in blocks: coreutils' stdbuf library makes it
// line-buffered, so the lines read at the start and end of the measured window are all the collections made before each
// point.
const STDBUF = '/usr/libexec/coreutils/libstdbuf.so';
const LINE_BUFFERED = existsSync(STDBUF) ? { LD_PRELOAD: STDBUF, _STDBUF_O: 'L' } : {};

/** Starts one contender with --trace-gc writing to `log`. */
async function start(who, certs, upstreamPort, log, extraFlags) {
  const out = openSync(log, 'w');
  const nodeFlags = ['--trace-gc', ...extraFlags];
  if (who === 'sidecar') return startSidecar(certs, upstreamPort, 0, { nodeFlags, stdout: out, env: LINE_BUFFERED });
  const port = await freePort();
  const script = join(HERE, 'lib', 'node-floor-proxy.mjs');
  const args = [String(port), String(upstreamPort), certs.serverCert, certs.serverKey, certs.ca, 'https'];
  const child = startProcess(process.execPath, [...SHIPPED_NODE_FLAGS, ...nodeFlags, script, ...args], {
    cpu: 0,
    env: { ...SHIPPED_NODE_ENV, ...LINE_BUFFERED },
    stdio: ['ignore', out, 'inherit'],
  });
  await waitForPort(port, 15_000, child);
  return { port, child };
}

/** Count and pause time of each kind of collection in --trace-gc lines. */
function collections(lines) {
  const kinds = {};
  for (const line of lines) {
    const m = /: (Scavenge|Mark-Compact|Minor Mark-Sweep)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/.exec(
      line,
    );
    if (!m) continue;
    kinds[m[1]] ??= { count: 0, ms: 0 };
    kinds[m[1]].count += 1;
    kinds[m[1]].ms += Number(m[2]);
  }
  return kinds;
}

async function main() {
  pinSelf(1);
  const certs = await makeCertificates(work);
  const shim = await buildClientCertShim(work);
  const upstream = await startUpstream(work, 1);
  const extraFlags = opt.flags.split(' ').filter(Boolean);
  console.log(`| contender | flags | requests | CPU µs/req | collections in ${opt.seconds} s | GC pause µs/req |`);
  console.log('|---|---|--:|--:|---|--:|');
  for (const who of opt.who.split(',')) {
    const log = join(work, `${who}.log`);
    const proc = await start(who, certs, upstream.port, log, extraFlags);
    await runWrk({ port: proc.port, seconds: 3, connections: 32, shim, certs, cpu: 1 });
    const skip = readFileSync(log, 'utf8').split('\n').length - 1;
    const cpu0 = treeCpuSeconds(proc.child.pid);
    const load = await runWrk({ port: proc.port, seconds: Number(opt.seconds), connections: 32, shim, certs, cpu: 1 });
    const cpu = treeCpuSeconds(proc.child.pid) - cpu0;
    const kinds = collections(readFileSync(log, 'utf8').split('\n').slice(skip));
    const perReq = (ms) => ((ms * 1000) / load.requests).toFixed(2);
    const listed = Object.entries(kinds)
      .map(([k, v]) => `${k} ${v.count}× (${perReq(v.ms)} µs/req)`)
      .join(', ');
    const pause = Object.values(kinds).reduce((s, v) => s + v.ms, 0);
    console.log(
      `| ${who} | shipped${extraFlags.length ? ` + ${extraFlags.join(' ')}` : ''} | ${load.requests} | ` +
        `${((cpu * 1e6) / load.requests).toFixed(1)} | ${listed} | ${perReq(pause)} |`,
    );
    await stopProcess(proc.child, 'SIGTERM', 5000);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
