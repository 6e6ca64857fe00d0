// The compose file's own variables stay out of the proxy's MTLS_SIDECAR_ namespace (a shell that exported them for
// compose would otherwise make `npm run dev` refuse an unknown variable), and it runs on Compose v1 too (no `name:`).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { ENV_PREFIX } from '../../src/config/flags.js';
import { mergeSources } from '../../src/config/sources.js';
import { COMPOSE_FILE } from './lib/paths.js';

const text = readFileSync(COMPOSE_FILE, 'utf8');
const variables = [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string))];

t.ok(variables.length > 0, `the compose file has variables: ${variables.join(', ')}`);
for (const name of variables)
  t.notOk(name.startsWith(ENV_PREFIX), `${name} is not in the proxy's ${ENV_PREFIX} namespace`);

t.test('the proxy started from a shell that exported them does not refuse', async (t) => {
  const env = Object.fromEntries(variables.map((name) => [name, 'exported-for-compose']));
  const { problems } = mergeSources({ flags: {}, env });
  t.same(problems, [], 'no unknown-variable problem');
  t.match(
    mergeSources({ flags: {}, env: { [`${ENV_PREFIX}BIND`]: '0.0.0.0' } }).problems.join('\n'),
    `${ENV_PREFIX}BIND`,
    'while the old names were refused',
  );
});

t.notOk(
  'name' in (parse(text) as Record<string, unknown>),
  'no top-level name: (Compose v1, as shipped by Debian, rejects it)',
);

t.test(
  "Debian's Compose v1 accepts the file",
  {
    skip:
      spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0
        ? false
        : 'docker-compose (v1) is not installed',
  },
  async (t) => {
    const r = spawnSync('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
  },
);
