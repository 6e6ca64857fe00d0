// What each layer keeps per idle mTLS connection: a bare tls server, https.createServer, http2.createSecureServer
// ({ allowHTTP1 }), the plain Node floor and the sidecar, each holding N idle connections (one request served on each).
// Figures from inside the process (process.memoryUsage() after a full GC, via bench/lib/mem-probe.mjs) and RSS from
// /proc. Usage: node bench/idle-memory.mjs [--count N] [--kinds tls,https,h2compat,floor,sidecar]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { SHIPPED_NODE_ENV, SHIPPED_NODE_FLAGS, sidecarArgs, startUpstream } from './lib/contenders.mjs';
import { clientTlsOptions, openIdleConnection } from './lib/extras.mjs';
import {
  freePort,
  pinSelf,
  runCommand,
  scratchDir,
  sleep,
  startProcess,
  stopProcess,
  treeFdCount,
  treeMemoryMb,
  waitForPort,
} from './lib/procs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    kinds: { type: 'string', default: 'tls,https,h2compat,floor,sidecar' },
  },
});
const count = Number(opt.count);
const work = scratchDir('mtls-idle-');
const say = (m) => process.stderr.write(`[idle-memory] ${m}\n`);

function scriptArgs(kind, port, certs, upstreamPort) {
  if (kind === 'sidecar') return sidecarArgs(certs, port, upstreamPort);
  if (kind === 'floor')
    return [
      join(HERE, 'lib', 'node-floor-proxy.mjs'),
      String(port),
      String(upstreamPort),
      certs.serverCert,
      certs.serverKey,
      certs.ca,
    ];
  return [join(HERE, 'lib', 'idle-servers.mjs'), kind, String(port), certs.serverCert, certs.serverKey, certs.ca];
}

const lineCount = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

/** Waits until `file` has more than `n` lines; returns the last one parsed. */
async function nextLine(file, n) {
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length > n) return JSON.parse(lines.at(-1));
  }
  throw new Error(`no reading in ${file}`);
}

/** One reading: V8's view after a full GC (mem-probe), RSS, then glibc's (malloc-stats shim; trimmed when asked). */
async function probe(child, files, trim = false) {
  const n = lineCount(files.v8);
  process.kill(child.pid, 'SIGUSR2');
  const v8 = await nextLine(files.v8, n);
  const rssProc = treeMemoryMb(child.pid, 'VmRSS') * 1048576;
  const m = lineCount(files.malloc);
  writeFileSync(files.trigger, trim ? 'trim' : 'stats');
  const malloc = await nextLine(files.malloc, m);
  return { ...v8, rssProc, malloc, rssAfterTrim: treeMemoryMb(child.pid, 'VmRSS') * 1048576 };
}

async function one(kind, certs, upstreamPort, shim) {
  const port = await freePort();
  const files = {
    v8: join(work, `${kind}.jsonl`),
    malloc: join(work, `${kind}.malloc.jsonl`),
    trigger: join(work, `${kind}.trigger`),
  };
  const flags = [...SHIPPED_NODE_FLAGS, '--expose-gc', '--import', join(HERE, 'lib', 'mem-probe.mjs')];
  const env = {
    ...SHIPPED_NODE_ENV,
    MEM_PROBE_FILE: files.v8,
    LD_PRELOAD: shim,
    MALLOC_STATS_FILE: files.malloc,
    MALLOC_STATS_TRIGGER: files.trigger,
  };
  const child = startProcess(process.execPath, [...flags, ...scriptArgs(kind, port, certs, upstreamPort)], {
    cpu: 0,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForPort(port, 20_000, child);
    const opts = clientTlsOptions(certs, port);
    let session;
    const warm = await openIdleConnection(opts, undefined, (t) => (session = t));
    warm?.destroy();
    await sleep(500);
    const before = await probe(child, files);
    const sockets = [];
    while (sockets.length < count) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, count - sockets.length) }, () =>
          openIdleConnection(opts, session, (t) => (session = t)),
        ),
      );
      if (batch.some((s) => s === null)) throw new Error(`${kind}: a connection failed`);
      for (const s of batch) sockets.push(s.on('error', () => undefined));
    }
    await sleep(1000);
    const open = await probe(child, files);
    const fds = treeFdCount(child.pid);
    for (const s of sockets) s.destroy();
    const deadline = Date.now() + 15_000;
    while (treeFdCount(child.pid) > fds - count * 0.95 && Date.now() < deadline) await sleep(200);
    await sleep(1000);
    const closed = await probe(child, files, true);
    return { kind, before, open, closed };
  } finally {
    await stopProcess(child);
  }
}

async function main() {
  pinSelf(1);
  const certs = await makeCertificates(work);
  const upstream = await startUpstream(work, 1);
  const shim = join(work, 'malloc-stats.so');
  const cc = await runCommand('cc', [
    '-shared',
    '-fPIC',
    '-O2',
    '-o',
    shim,
    join(HERE, 'malloc-stats-shim.c'),
    '-lpthread',
  ]);
  if (cc.status !== 0) throw new Error(`malloc-stats shim build failed: ${cc.stderr.slice(0, 300)}`);
  const rows = [];
  for (const kind of opt.kinds.split(',')) {
    const r = await one(kind, certs, upstream.port, shim);
    say(
      `${kind}: RSS ${(r.before.rssProc / 1048576).toFixed(1)} → ${(r.open.rssProc / 1048576).toFixed(1)} → ${(r.closed.rssProc / 1048576).toFixed(1)} MB`,
    );
    rows.push(r);
  }
  const kb = (r, k) => (r.open[k] - r.before[k]) / count / 1024;
  const mb = (x) => (x / 1048576).toFixed(1);
  console.log(
    `Per idle mTLS connection (${count} connections, TLS 1.3 resumed sessions, one GET each; ${process.version} ${SHIPPED_NODE_FLAGS.join(' ')}; memoryUsage after gc):\n`,
  );
  const mkb = (r, k) => (r.open.malloc[k] - r.before.malloc[k]) / count / 1024;
  console.log(
    '| server | KB RSS | KB JS heap used | KB external (Buffers) | KB malloc in use (native objects, OpenSSL) | KB malloc free but kept | RSS before MB | with conns MB | after close MB | after close + malloc_trim MB | malloc in use after close MB |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    console.log(
      `| ${r.kind} | ${kb(r, 'rssProc').toFixed(1)} | ${kb(r, 'heapUsed').toFixed(1)} | ${kb(r, 'external').toFixed(1)} | ${mkb(r, 'inUse').toFixed(1)} | ${mkb(r, 'free').toFixed(1)} | ${mb(r.before.rssProc)} | ${mb(r.open.rssProc)} | ${mb(r.closed.rssProc)} | ${mb(r.closed.rssAfterTrim)} | ${mb(r.closed.malloc.inUse)} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => (say(e.stack ?? String(e)), process.exit(1)),
);
