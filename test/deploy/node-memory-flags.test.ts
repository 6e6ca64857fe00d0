// The image bounds V8's young generation and how far its old generation grows between full collections, and turns off
// allocation-site pretenuring, with Node flags in the ENTRYPOINT (before the script), and sets glibc's malloc tunables
// in its ENV; the shipped runtime accepts the flags and they take effect (observed from V8's own space sizes under
// allocation and its own pretenuring trace), glibc reads the tunables (its dynamic loader lists them), and npm
// start/dev use the same.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DOCKERFILE, REPO_ROOT } from './lib/paths.js';

const dockerfile = readFileSync(DOCKERFILE, 'utf8');
const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
const flags = entrypoint.slice(1, -1);
const semiMb = Number(/^--max-semi-space-size=(\d+)$/.exec(flags[0] ?? '')?.[1]);
const growingPercent = Number(/^--heap-growing-percent=(\d+)$/.exec(flags[1] ?? '')?.[1]);
const tunables = /^ENV GLIBC_TUNABLES=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
const tunable = (name: string): number | undefined => {
  const value = new RegExp(`(?:^|:)glibc\\.malloc\\.${name}=(\\d+)(?::|$)`).exec(tunables)?.[1];
  return value === undefined ? undefined : Number(value);
};

t.equal(entrypoint[0], '/nodejs/bin/node', "the ENTRYPOINT runs the runtime base's node");
t.equal(
  entrypoint.at(-1),
  '/app/dist/main.js',
  "and ends with the script, so arguments after the image name are the CLI's",
);
t.same(
  flags,
  [`--max-semi-space-size=${semiMb}`, `--heap-growing-percent=${growingPercent}`, '--no-allocation-site-pretenuring'],
  'the only Node flags bound the young generation and the growth of the old one and turn off pretenuring ' +
    '(no --expose-gc, --inspect or --import)',
);
t.ok(semiMb >= 1 && semiMb <= 16, `the semi-space bound (${semiMb} MB) is between 1 and 16 MB`);
t.ok(growingPercent >= 10 && growingPercent <= 100, `the old generation grows by ${growingPercent}% (10-100)`);
const arenaMax = tunable('arena_max');
const mmapThreshold = tunable('mmap_threshold');
t.ok(arenaMax !== undefined && arenaMax >= 1 && arenaMax <= 8, `the image limits malloc to ${arenaMax} arenas`);
t.ok(
  mmapThreshold !== undefined && mmapThreshold >= 16384 && mmapThreshold <= 131072,
  `and maps blocks of ${mmapThreshold} bytes or more on their own (16-128 KiB)`,
);

const scripts = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const runtime = `GLIBC_TUNABLES=${tunables} node ${flags.join(' ')}`;
t.equal(scripts['start'], `${runtime} dist/main.js run`, "npm start runs with the image's flags and environment");
t.match(
  scripts['dev'],
  new RegExp(`&& ${runtime} dist/main\\.js dev$`),
  "npm run dev runs with the image's flags and environment",
);

/** Runs a probe script under node with these flags; returns what it prints as JSON. */
function probe<T>(nodeFlags: string[], script: string): T {
  const r = spawnSync(process.execPath, [...nodeFlags, '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`node ${nodeFlags.join(' ')} failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout) as T;
}

// The largest new space V8 reports while a loop allocates short-lived objects. Node 24's V8 reports up to twice the two
// semi-spaces as new space (its accounting includes more than them), so the bound is four of them: still far below
// what it grows to without the flag.
const youngProbe = `const v8 = require('node:v8'); let max = 0, keep = [];
for (let i = 0; i < 3e6; i++) {
  keep.push({ i, s: 'x' + i }); if (keep.length > 2e4) keep = [];
  if (i % 5e4 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
}
console.log(max / 2 ** 20);`;

t.test('the shipped runtime accepts the flags and the young generation stays within its bound', async (t) => {
  const bounded = probe<number>(flags, youngProbe);
  t.ok(
    bounded > 0 && bounded <= 4 * semiMb,
    `new space at most ${4 * semiMb} MB with ${flags.join(' ')} (saw ${bounded} MB)`,
  );
  // Without a memory limit V8 sizes the young generation from the host's memory (up to 64 MB of new space with
  // 16 GB); inside a small cgroup, or on a small host, it picks 1 MB semi-spaces itself and there is nothing to
  // compare.
  const limit = process.constrainedMemory?.() ?? 0;
  const roomy = totalmem() >= 4 * 2 ** 30 && (limit === 0 || limit >= 4 * 2 ** 30);
  if (!roomy)
    return t.comment(`memory-limited host (${totalmem()} bytes, cgroup ${limit}): not comparing with the default`);
  const unbounded = probe<number>([], youngProbe);
  t.ok(unbounded > 4 * semiMb, `the probe can tell: without the flag new space grew to ${unbounded} MB`);
});

// ~40 MB stays live while objects that outlive a few young collections (so they are promoted) keep dying: the largest
// old space is then what survived the last full collection plus the room V8 allows before the next one.
const oldProbe = `const v8 = require('node:v8');
const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
const live = Array.from({ length: 2e5 }, (_, i) => ({ i, s: 'live' + i, a: [i, i + 1] }));
const ring = Array.from({ length: 5e4 }, (_, i) => ({ i, s: 'x' + i, a: [i] }));
gc(); gc(); let max = 0; const liveMb = old().space_used_size / 2 ** 20;
for (let i = 0; i < 4e6; i++) {
  ring[i % ring.length] = { i, s: 'x' + i, a: [i] };
  if (i % 2e4 === 0) max = Math.max(max, old().space_size);
}
console.log(JSON.stringify({ liveMb, maxOldMb: max / 2 ** 20, kept: live.length }));`;

t.test(
  'the old generation grows by the shipped percentage between full collections, not by V8 own factor',
  async (t) => {
    const shipped = probe<{ liveMb: number; maxOldMb: number }>([...flags, '--expose-gc'], oldProbe);
    // V8 adds at least 8 MB and the young generation's capacity to the next limit, and what is promoted while a full
    // collection runs lands on top: 40 MB of slack, still far below V8's own factor of up to 4.
    const bound = shipped.liveMb * (1 + growingPercent / 100) + 40;
    t.ok(
      shipped.maxOldMb <= bound,
      `old space at most ${bound.toFixed(1)} MB with ${flags.join(' ')} (${shipped.liveMb.toFixed(1)} MB live; saw ${shipped.maxOldMb.toFixed(1)} MB)`,
    );
    // V8 allows up to 4x only when its heap limit is 2 GB or more (a roomy host without a memory limit).
    const limit = process.constrainedMemory?.() ?? 0;
    const roomy = totalmem() >= 8 * 2 ** 30 && (limit === 0 || limit >= 8 * 2 ** 30);
    if (!roomy)
      return t.comment(
        `memory-limited host (${totalmem()} bytes, cgroup ${limit}): not comparing with V8's own factor`,
      );
    const own = probe<{ liveMb: number; maxOldMb: number }>([flags[0] ?? '', '--expose-gc'], oldProbe);
    t.ok(
      own.maxOldMb > bound,
      `the probe can tell: with V8's own factor old space grew to ${own.maxOldMb.toFixed(1)} MB`,
    );
  },
);

// Objects from one allocation site that all outlive young collections: V8 decides to allocate that site's objects in
// the old generation from then on, and says so in its pretenuring trace ("=> tenure").
const tenureProbe =
  'const keep = []; for (let i = 0; i < 1e6; i++) keep.push({ i, s: "x" + i }); console.log(keep.length);';

function tenureDecisions(nodeFlags: string[]): number {
  const r = spawnSync(process.execPath, [...nodeFlags, '--trace-pretenuring-statistics', '-e', tenureProbe], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`node ${nodeFlags.join(' ')} failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  return r.stdout.split('\n').filter((l) => l.includes('=> tenure')).length;
}

t.test('the shipped runtime makes no pretenuring decision', async (t) => {
  t.equal(tenureDecisions(flags), 0, `no site pretenured with ${flags.join(' ')}`);
  const without = flags.filter((f) => f !== '--no-allocation-site-pretenuring');
  t.ok(tenureDecisions(without) > 0, 'the probe can tell: without the flag V8 pretenures the probe site');
});

// glibc's dynamic loader prints the tunables it read from the environment (glibc 2.33 and later, as Debian 12's 2.36
// in the runtime base); a misspelt name is silently ignored by glibc, so the values must show there.
const LOADER = '/lib64/ld-linux-x86-64.so.2';
t.test(
  "glibc reads the image's malloc tunables",
  { skip: process.arch === 'x64' && existsSync(LOADER) ? false : `no ${LOADER} here` },
  async (t) => {
    const r = spawnSync(LOADER, ['--list-tunables'], { encoding: 'utf8', env: { GLIBC_TUNABLES: tunables } });
    t.equal(r.status, 0, r.stderr);
    const listed = (name: string): number =>
      Number(new RegExp(`^glibc\\.malloc\\.${name}: (0x[0-9a-f]+)`, 'm').exec(r.stdout)?.[1]);
    t.equal(listed('arena_max'), arenaMax, 'arena_max as set');
    t.equal(listed('mmap_threshold'), mmapThreshold, 'mmap_threshold as set');
  },
);
