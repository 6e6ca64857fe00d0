// Fail closed, as the built CLI says it: no allow rule exits 78 with the explanation (in-process cases:
// test/unit/config/empty-allowlist-refused).
import t from 'tap';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

t.test('the built CLI exits 78 with the explanation', async (t) => {
  const r = runCli([
    'run',
    '--upstream',
    'http://127.0.0.1:8080',
    '--cert',
    files.cert,
    '--key',
    files.key,
    '--client-ca',
    files.ca,
  ]);
  t.equal(r.status, 78);
  t.match(r.stderr, /no allow rule is configured.*never means "everyone".*--allow-any-verified/);
});
