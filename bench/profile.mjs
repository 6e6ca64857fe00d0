// Profiles the sidecar's hot path: runs it under `node --cpu-prof` with keep-alive mTLS load, then prints where the
// CPU went. Usage: node bench/profile.mjs [--mode requests|resumed|new] [--seconds S] [--connections N] [--dir DIR]
// [--access-log] [--top N] [--contender sidecar|reference|h2compat]   (reference: the plain Node floor of the
// benchmark; h2compat: the floor on an http2 allowHTTP1 listener, the sidecar's listener kind) requests: keep-alive
// GETs (wrk); resumed: TLS 1.2 session resumptions (openssl s_time -reuse); new: full mTLS handshakes (s_time -new) h2
// / grpc: HTTP/2 GETs / gRPC unary calls with h2load (reference: the plain Node http2 floor; grpc: an h2c gRPC
// upstream)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { startGrpcUpstream, startNodeFloor, startNodeH2Floor, startSidecar, startUpstream } from './lib/contenders.mjs';
import { GRPC_HEADERS, GRPC_PATH, grpcRequestFile } from './lib/h2-rows.mjs';
import { buildClientCertShim, runH2load, runSTime, runWrk } from './lib/load.mjs';
import { pinSelf, scratchDir, stopProcess, treeCpuSeconds } from './lib/procs.mjs';
import { formatSummary, summarizeProfile } from './cpuprofile-summary.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    mode: { type: 'string', default: 'requests' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    dir: { type: 'string', default: '/tmp/prof' },
    'access-log': { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
    contender: { type: 'string', default: 'sidecar' },
  },
});

const work = scratchDir('mtls-prof-');

async function main() {
  if (!existsSync(resolve(HERE, '..', 'dist', 'main.js'))) throw new Error('dist/main.js missing: npm run build');
  pinSelf(1);
  const certs = await makeCertificates(work);
  const shim = await buildClientCertShim(work);
  const h2 = opt.mode === 'h2' || opt.mode === 'grpc';
  const upstream = opt.mode === 'grpc' ? await startGrpcUpstream(1) : await startUpstream(work, 1);
  const profDir = resolve(opt.dir);
  mkdirSync(profDir, { recursive: true });
  const before = new Set(readdirSync(profDir));
  const extra = opt['access-log'] ? ['--log-level', 'info'] : [];
  const spawnedAt = Date.now();
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  const sidecar =
    opt.contender === 'sidecar'
      ? await startSidecar(certs, upstream.port, 0, { extra, nodeFlags })
      : h2
        ? await startNodeH2Floor(certs, upstream.port, 0, opt.mode === 'grpc' ? 'grpc' : 'http', { nodeFlags })
        : await startNodeFloor(certs, upstream.port, 0, {
            nodeFlags,
            listener: opt.contender === 'h2compat' ? 'h2compat' : 'https',
          });
  const grpc = opt.mode === 'grpc' ? { path: GRPC_PATH, headers: GRPC_HEADERS, dataFile: grpcRequestFile(work) } : {};
  const load = (seconds) =>
    h2
      ? runH2load({ port: sidecar.port, seconds, clients: 16, streams: 4, shim, certs, cpu: 1, ...grpc })
      : runWrk({ port: sidecar.port, seconds, connections: Number(opt.connections), shim, certs, cpu: 1 });
  await load(3); // warm-up, so the profile shows optimized code
  const c0 = treeCpuSeconds(sidecar.child.pid);
  const window = { fromMs: Date.now() - spawnedAt };
  const seconds = Number(opt.seconds);
  let w;
  if (opt.mode === 'requests' || h2) w = await load(seconds);
  else {
    const hs = await runSTime({
      port: sidecar.port,
      seconds,
      mode: opt.mode === 'new' ? 'new' : 'reuse',
      extra: opt.mode === 'new' ? [] : ['-tls1_2'],
      certs,
      cpu: 1,
    });
    w = { requests: hs.handshakes, rps: hs.handshakes / seconds };
  }
  window.toMs = Date.now() - spawnedAt;
  const cpu = treeCpuSeconds(sidecar.child.pid) - c0;
  const unit = opt.mode === 'requests' || h2 ? 'request' : `${opt.mode} handshake`;
  process.stderr.write(
    `${w.requests} ${unit}s, ${w.rps.toFixed(0)}/s, ${((cpu * 1e6) / w.requests).toFixed(1)} µs CPU per ${unit} (profiler overhead included)\n`,
  );
  await stopProcess(sidecar.child, 'SIGTERM', 15_000);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (!file) throw new Error(`no new .cpuprofile in ${profDir} (did the sidecar exit cleanly on SIGTERM?)`);
  process.stdout.write(
    `Profile: ${join(profDir, file)} (mode ${opt.mode}, window ${window.fromMs}-${window.toMs} ms: ${opt.seconds}s of load after a 3s keep-alive warm-up; ${w.requests} ${unit}s, ${((cpu * 1e6) / w.requests).toFixed(1)} µs CPU per ${unit} with the profiler on)\n\n`,
  );
  // For bench/profile-compare.mjs: what the profile's samples are to be divided by.
  writeFileSync(
    join(profDir, `${file}.meta.json`),
    JSON.stringify({
      contender: `${opt.contender}${opt['access-log'] ? ' + access log' : ''}`,
      mode: opt.mode,
      units: w.requests,
      cpuUsPerUnit: (cpu * 1e6) / w.requests,
      window,
    }),
  );
  const summary = summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), window);
  const perUnit = (ms) => ((ms * 1000) / w.requests).toFixed(2);
  process.stdout.write(
    `**Self time by module, µs per ${unit}** (sampled time in the window; "(idle)" excluded from the total)\n\n| µs/${unit} | module |\n|--:|---|\n`,
  );
  const busy = summary.modules.filter(([k]) => k !== '(idle)');
  for (const [k, v] of busy.slice(0, 20)) process.stdout.write(`| ${perUnit(v)} | ${k} |\n`);
  process.stdout.write(`| ${perUnit(busy.reduce((a, [, v]) => a + v, 0))} | total sampled, not idle |\n\n`);
  process.stdout.write(`${formatSummary(summary, Number(opt.top))}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`profile failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
