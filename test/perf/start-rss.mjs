// RSS of freshly started sidecars (dist/ snapshots from test/perf/snapshot.sh, optional node flags), median of N
// starts each. Usage: node test/perf/start-rss.mjs [--starts N] NAME=DIR[|--flag ...] ...
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCertificates } from '../../bench/lib/certs.mjs';
import { sidecarArgs } from '../../bench/lib/contenders.mjs';
import {
  freePort,
  killAllSync,
  sleep,
  startProcess,
  stopProcess,
  treeMemoryMb,
  waitForPort,
} from '../../bench/lib/procs.mjs';
import { median } from '../../bench/lib/report.mjs';

const { values: opt, positionals } = parseArgs({
  options: { starts: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const work = mkdtempSync(join(tmpdir(), 'mtls-rss-'));
process.on('exit', () => {
  killAllSync();
  rmSync(work, { recursive: true, force: true });
});
const certs = await makeCertificates(work, 'ec');
const rows = [];
for (const spec of positionals) {
  const [head, ...flags] = spec.split('|');
  const [name, dir] = head.split('=');
  const rss = [];
  for (let i = 0; i < Number(opt.starts); i++) {
    const port = await freePort();
    const args = sidecarArgs(certs, port, 9, []);
    args[0] = join(resolve(dir), 'dist', 'main.js');
    const child = startProcess(process.execPath, [...flags, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(port, 20_000, child);
    await sleep(1000);
    rss.push(treeMemoryMb(child.pid, 'VmRSS'));
    await stopProcess(child);
  }
  rows.push(`| ${name} ${flags.join(' ')} | ${median(rss).toFixed(1)} | ${rss.map((x) => x.toFixed(1)).join(', ')} |`);
}
process.stdout.write(`| variant | RSS after start MB (median) | each start |\n|---|--:|---|\n${rows.join('\n')}\n`);
process.exit(0);
