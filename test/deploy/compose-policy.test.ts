// The compose stack is contained: only the sidecar publishes 8443, the API is internal-only, no socket, no privilege.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkComposePolicy, interpolateDefaults, parseCompose, readCompose } from './lib/compose-policy.js';
import { readFixtureHeader } from './lib/k8s-checks.js';
import { COMPOSE_FILE, FIXTURES } from './lib/paths.js';

t.test('deploy/compose/compose.yaml passes the policy', async (t) => {
  t.same(checkComposePolicy(readCompose(COMPOSE_FILE)), []);
});

t.test('the sidecar port binds 127.0.0.1 unless SIDECAR_BIND says otherwise', async (t) => {
  const raw = parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, { ports?: string[] }> };
  const ports = raw.services['mtls-sidecar']?.ports ?? [];
  t.same(interpolateDefaults(ports), ['127.0.0.1:8443:8443']);
  t.same(interpolateDefaults(ports, { SIDECAR_BIND: '192.0.2.10' }), ['192.0.2.10:8443:8443']);
  t.same(raw.services.api?.ports, undefined, 'the API publishes nothing');
});

const dir = join(FIXTURES, 'compose');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
t.ok(fixtures.length >= 13, 'the fixtures are all there');
for (const file of fixtures) {
  const text = readFileSync(join(dir, file), 'utf8');
  const header = readFixtureHeader(text);
  if (header.check !== 'policy') continue;
  t.test(file, async (t) => {
    const findings = checkComposePolicy(parseCompose(text));
    t.same(
      [...new Set(findings.map((f) => f.rule))],
      [header.expect],
      findings.map((f) => `${f.where}: ${f.message}`).join('\n'),
    );
  });
}
