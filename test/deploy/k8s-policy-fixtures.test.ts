// Each bad fixture trips exactly the rule it was written for, and the good fixtures trip none: the checkers can fail.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocs } from './lib/k8s-docs.js';
import { readFixtureHeader, runK8sCheckers } from './lib/k8s-checks.js';
import { FIXTURES } from './lib/paths.js';

const dir = join(FIXTURES, 'k8s');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

t.ok(files.filter((f) => f.startsWith('bad-')).length >= 20, 'the bad fixtures are all there');

for (const file of files) {
  t.test(file, async (t) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const header = readFixtureHeader(text);
    const checkers = (header.checkers ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    t.ok(checkers.length > 0 && header.expect, 'fixture names its checkers and expected rule');
    const findings = runK8sCheckers(checkers, parseYamlDocs(text, file));
    const rules = [...new Set(findings.map((f) => f.rule))];
    t.same(
      rules,
      header.expect === 'none' ? [] : [header.expect],
      findings.map((f) => `${f.where}: ${f.message}`).join('\n'),
    );
  });
}
