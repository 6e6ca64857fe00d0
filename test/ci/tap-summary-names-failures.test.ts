// The summary CI ends its log with names each failed assertion (file, subtests, place) before the counts: tap itself
// runs a fixture with one failing assertion inside nested subtests and one passing, and the summary reads tap's output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../deploy/lib/paths.js';

t.test('a failed assertion is named with its subtests and line, then the counts', async (t) => {
  // Inside the project (under its ignored .tap/), so the runner finds tap and the project's own settings.
  mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, '.tap', 'summary-fixture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fixture = join(dir, 'fixture.mjs');
  writeFileSync(
    fixture,
    [
      "import t from 'tap';",
      "t.test('outer', async (t) => {",
      "  t.test('inner', async (t) => {",
      "    t.ok(true, 'fine');",
      "    t.equal(1, 2, 'one is two');",
      '  });',
      '});',
      '',
    ].join('\n'),
  );
  // The runner of this very test sets TAP_* variables that would make the inner run report to it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^_?TAP/i.test(k)));
  const runner = join(REPO_ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs');
  const tap = spawnSync(process.execPath, [runner, '--reporter=tap', '--disable-coverage', fixture], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  t.not(tap.status, 0, 'tap itself reports the failure');
  const log = join(dir, 'tap.log');
  writeFileSync(log, tap.stdout + tap.stderr);
  const summary = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'tap-summary.mjs'), log], {
    encoding: 'utf8',
  });
  t.equal(summary.status, 0);
  const lines = summary.stdout.trim().split('\n');
  t.equal(lines.filter((l) => l.startsWith('FAILED: ')).length, 1, 'one failure named, not its enclosing subtests');
  t.match(lines[0], /^FAILED: .*fixture\.mjs > outer > inner > one is two$/, 'file > subtests > assertion');
  t.ok(lines.includes('    lineNumber: 5'), 'the line of the failed assertion');
  t.equal(lines.at(-1), '1 passed, 1 failed', 'the counts come last');
});
