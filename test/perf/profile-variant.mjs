// Profiles one dist/ snapshot (test/perf/snapshot.sh) under keep-alive load or handshakes, like bench/profile.mjs, and
// prints the summary. Usage: node test/perf/profile-variant.mjs --variant DIR [--mode requests|resumed|new] [--seconds
// S] [--top N] [--out DIR]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCertificates } from '../../bench/lib/certs.mjs';
import { sidecarArgs, startUpstream } from '../../bench/lib/contenders.mjs';
import { buildClientCertShim, runSTime, runWrk } from '../../bench/lib/load.mjs';
import {
  freePort,
  pinSelf,
  scratchDir,
  startProcess,
  stopProcess,
  treeCpuSeconds,
  waitForPort,
} from '../../bench/lib/procs.mjs';
import { formatSummary, summarizeProfile } from '../../bench/cpuprofile-summary.mjs';

const { values: opt } = parseArgs({
  options: {
    variant: { type: 'string' },
    mode: { type: 'string', default: 'requests' },
    seconds: { type: 'string', default: '10' },
    top: { type: 'string', default: '25' },
    out: { type: 'string', default: '/tmp/prof-ab' },
    extra: { type: 'string', default: '' },
  },
});
const work = scratchDir('mtls-profv-');

async function main() {
  pinSelf(1);
  const certs = await makeCertificates(work, 'ec');
  const shim = await buildClientCertShim(work);
  const upstream = await startUpstream(work, 1);
  const profDir = resolve(opt.out);
  mkdirSync(profDir, { recursive: true });
  const before = new Set(readdirSync(profDir));
  const port = await freePort();
  const args = sidecarArgs(certs, port, upstream.port, opt.extra ? opt.extra.split(' ') : []);
  args[0] = join(resolve(opt.variant), 'dist', 'main.js');
  const spawnedAt = Date.now();
  const child = startProcess(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...args], {
    cpu: 0,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 20_000, child);
  const load = (s) => runWrk({ port, seconds: s, connections: 32, shim, certs, cpu: 1 });
  await load(3);
  const c0 = treeCpuSeconds(child.pid);
  const window = { fromMs: Date.now() - spawnedAt };
  const seconds = Number(opt.seconds);
  let n;
  if (opt.mode === 'requests') n = (await load(seconds)).requests;
  else
    n = (
      await runSTime({
        port,
        seconds,
        mode: opt.mode === 'new' ? 'new' : 'reuse',
        extra: opt.mode === 'new' ? [] : ['-tls1_2'],
        certs,
        cpu: 1,
      })
    ).handshakes;
  window.toMs = Date.now() - spawnedAt;
  const cpu = treeCpuSeconds(child.pid) - c0;
  await stopProcess(child, 'SIGTERM', 15_000);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (!file) throw new Error('no profile written');
  // For bench/profile-compare.mjs, as bench/profile.mjs writes it: what the profile's samples are divided by.
  writeFileSync(
    join(profDir, `${file}.meta.json`),
    JSON.stringify({ contender: opt.variant, mode: opt.mode, units: n, cpuUsPerUnit: (cpu * 1e6) / n, window }),
  );
  process.stdout.write(
    `Profile ${join(profDir, file)}: ${opt.mode}, ${n} units, ${((cpu * 1e6) / n).toFixed(1)} µs CPU per unit (profiler on)\n\n`,
  );
  process.stdout.write(
    `${formatSummary(summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), window), Number(opt.top))}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`profile failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
