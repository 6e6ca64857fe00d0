// Prints, from a tap log, each failed assertion with the subtests it sits in, then the plain "N passed, N failed" line
// CI ends with: the end of a CI log is what is kept, so a failure must be named there.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8');

function yamlBlock(lines, from) {
  if (!/^\s*---$/.test(lines[from] ?? '')) return [];
  const end = lines.findIndex((l, j) => j > from && /^\s*\.\.\.$/.test(l));
  return lines.slice(from + 1, end === -1 ? from + 40 : end);
}

function failures(lines) {
  const found = [];
  const stack = [];
  lines.forEach((line, i) => {
    const indent = line.length - line.trimStart().length;
    const subtest = /^\s*# Subtest: (.*)$/.exec(line);
    if (subtest) {
      while (stack.length > 0 && stack.at(-1).indent >= indent) stack.pop();
      stack.push({ indent, name: subtest[1] });
      return;
    }
    const notOk = /^\s*not ok \d+ - (.*)$/.exec(line);
    if (!notOk) return;
    const within = stack.filter((s) => s.indent < indent).map((s) => s.name);
    const detail = yamlBlock(lines, i + 1)
      .filter(
        (l) =>
          /^\s+(fileName|lineNumber|found|wanted|pattern|exitCode|signal|timeout|message):/.test(l) ||
          /^\s+[-+][^-+]/.test(l),
      )
      .slice(0, 10);
    found.push({ path: [...within, notOk[1]].join(' > '), detail });
  });
  // An enclosing subtest is reported failed too; the deepest failure says the most.
  return found.filter((f) => !found.some((g) => g !== f && g.path.startsWith(`${f.path.replace(/ # .*$/, '')} > `)));
}

for (const f of failures(text.split('\n'))) {
  console.log(`FAILED: ${f.path}`);
  for (const d of f.detail) console.log(`    ${d.trim()}`);
}

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
