// compose.yaml fits the Compose-specification subset schema, and the schema rejects unknown keys and wrong types.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCompose, readCompose, validateComposeSchema } from './lib/compose-policy.js';
import { readFixtureHeader } from './lib/k8s-checks.js';
import { COMPOSE_FILE, FIXTURES } from './lib/paths.js';

t.test('deploy/compose/compose.yaml is valid', async (t) => {
  t.same(validateComposeSchema(readCompose(COMPOSE_FILE)), []);
});

const dir = join(FIXTURES, 'compose');
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  t.test(file, async (t) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const errors = validateComposeSchema(parseCompose(text));
    if (readFixtureHeader(text).check === 'schema') {
      t.not(errors.length, 0, 'the schema rejects it');
    } else {
      // Policy fixtures must be valid compose, so the policy check is what catches them.
      t.same(errors, [], 'valid compose, for the policy check to judge');
    }
  });
}
