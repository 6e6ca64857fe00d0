// The built CLI prints a long path at fault whole (the in-process cases are in test/unit/config/values-shown-whole).
import t from 'tap';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
t.test('a long missing path is printed whole', async (t) => {
  const path = `/srv/mtls/certificates/staging/no-such-directory/${'deeper/'.repeat(20)}server.crt`;
  const r = runCli([
    'check',
    '--upstream',
    'http://127.0.0.1:8080',
    '--cert',
    path,
    '--key',
    files.key,
    '--client-ca',
    files.ca,
    '--allow-cn',
    'x',
  ]);
  t.equal(r.status, 1);
  t.ok(r.stdout.includes(`--cert: "${path}": file does not exist`), 'the whole path, no "..."');
});
