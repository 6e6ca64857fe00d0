// A missing file makes the built CLI exit 78 naming it (in-process cases: test/unit/config/files-must-be-readable).
import { join } from 'node:path';
import t from 'tap';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

t.test('the built CLI names the file and exits 78', async (t) => {
  const missing = join(files.dir, 'nope.crt');
  const r = runCli(['run', '--allow-any-verified'], {
    MTLS_SIDECAR_UPSTREAM: 'http://127.0.0.1:1',
    MTLS_SIDECAR_CERT: missing,
    MTLS_SIDECAR_KEY: files.key,
    MTLS_SIDECAR_CLIENT_CA: files.ca,
  });
  t.equal(r.status, 78);
  t.match(r.stderr, `MTLS_SIDECAR_CERT: "${missing}": file does not exist; check the path`);
});
