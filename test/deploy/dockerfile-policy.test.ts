// The Dockerfiles pin their bases, run as a numeric non-root user, use exec form and expose the right ports;
// each bad fixture trips exactly its rule.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDockerfile, type DockerfileRules } from './lib/dockerfile-policy.js';
import { readFixtureHeader } from './lib/k8s-checks.js';
import { DOCKERFILE, FIXTURES, GRAPE_DIR } from './lib/paths.js';

const SIDECAR_RULES: DockerfileRules = { expose: [8443, 9090], multiStage: true, noRunInFinalStage: true };

t.test('the mtls-sidecar Dockerfile passes', async (t) => {
  t.same(checkDockerfile(readFileSync(DOCKERFILE, 'utf8'), SIDECAR_RULES), []);
});

t.test('the example API Dockerfile passes the rules that apply to it', async (t) => {
  const rules: DockerfileRules = { expose: [], multiStage: false, noRunInFinalStage: false };
  t.same(checkDockerfile(readFileSync(join(GRAPE_DIR, 'Dockerfile'), 'utf8'), rules), []);
});

// Read from the text directly too, so a parser or checker mistake cannot hide the essentials.
t.test('the essentials, read from the text', async (t) => {
  const text = readFileSync(DOCKERFILE, 'utf8');
  t.match(text, /^USER 10001:10001$/m);
  t.match(text, /^EXPOSE 8443 9090$/m);
  t.match(text, /^ENTRYPOINT \["\/nodejs\/bin\/node", ("--[a-z-]+(?:=\d+)?", )*"\/app\/dist\/main\.js"\]$/m);
  t.match(text, /npm ci --omit=dev/);
  t.notMatch(text, /:latest\b/);
});

const dir = join(FIXTURES, 'dockerfile');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.Dockerfile'))
  .sort();
t.ok(fixtures.length >= 14, 'the fixtures are all there');
for (const file of fixtures) {
  t.test(file, async (t) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const findings = checkDockerfile(text, SIDECAR_RULES);
    t.same(
      [...new Set(findings.map((f) => f.rule))],
      [readFixtureHeader(text).expect],
      findings.map((f) => `${f.where}: ${f.message}`).join('\n'),
    );
  });
}
