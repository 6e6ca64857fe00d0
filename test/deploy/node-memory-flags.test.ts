// The image bounds V8's young generation with a Node flag in the ENTRYPOINT (before the script), the shipped runtime
// accepts it and it takes effect (observed from V8's own new-space size under allocation), and npm start/dev use the
// same.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DOCKERFILE, REPO_ROOT } from './lib/paths.js';

const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(DOCKERFILE, 'utf8'))?.[1] ?? '[]') as string[];
const flags = entrypoint.slice(1, -1);
const semiMb = Number(/^--max-semi-space-size=(\d+)$/.exec(flags[0] ?? '')?.[1]);

t.equal(entrypoint[0], '/nodejs/bin/node', "the ENTRYPOINT runs the runtime base's node");
t.equal(
  entrypoint.at(-1),
  '/app/dist/main.js',
  "and ends with the script, so arguments after the image name are the CLI's",
);
t.same(
  flags,
  [`--max-semi-space-size=${semiMb}`],
  'the only Node flag bounds the young generation (no --expose-gc, --inspect or --import)',
);
t.ok(semiMb >= 1 && semiMb <= 16, `the semi-space bound (${semiMb} MB) is between 1 and 16 MB`);

const scripts = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
t.match(scripts['start'], new RegExp(`^node ${flags[0]} dist/main\\.js run$`), "npm start runs with the image's flag");
t.match(
  scripts['dev'],
  new RegExp(`&& node ${flags[0]} dist/main\\.js dev$`),
  "npm run dev runs with the image's flag",
);

// The largest new space V8 reports while a loop allocates short-lived objects. Node 24's V8 reports 8–11 MB of new
// space with 4 MB semi-spaces (its accounting includes more than the two semi-spaces), so the bound is four of them:
// still a quarter of what it grows to without the flag.
const probe = `const v8 = require('node:v8'); let max = 0, keep = [];
for (let i = 0; i < 3e6; i++) {
  keep.push({ i, s: 'x' + i }); if (keep.length > 2e4) keep = [];
  if (i % 5e4 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
}
console.log(max / 2 ** 20);`;
const newSpaceMb = (nodeFlags: string[]): number => {
  const r = spawnSync(process.execPath, [...nodeFlags, '-e', probe], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`node ${nodeFlags.join(' ')} failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  return Number(r.stdout.trim());
};

t.test('the shipped runtime accepts the flag and the young generation stays within it', async (t) => {
  const bounded = newSpaceMb(flags);
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
  const unbounded = newSpaceMb([]);
  t.ok(unbounded > 4 * semiMb, `the probe can tell: without the flag new space grew to ${unbounded} MB`);
});
