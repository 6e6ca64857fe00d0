// Prints the plain "N passed, N failed" line CI ends with, from tap's final summary in a log file.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8');
const summaries = [...text.matchAll(/^# \{ (total: \d+[^}]*)\}$/gm)];
const last = summaries.at(-1);
if (!last) {
  console.log('0 passed, 1 failed (no tap summary found)');
} else {
  const counts = Object.fromEntries(
    last[1]
      .split(',')
      .map((kv) =>
        kv
          .trim()
          .split(':')
          .map((s) => s.trim()),
      )
      .map(([k, v]) => [k, Number(v)]),
  );
  const typecheckFailed = /error TS\d+/.test(text) ? 1 : 0;
  console.log(`${counts.pass ?? 0} passed, ${(counts.fail ?? 0) + typecheckFailed} failed`);
}
