// A bad MTLS_SIDECAR_STRIP_HEADER makes the built CLI exit 78 naming it (in-process cases:
// test/unit/config/strip-header).
import t from 'tap';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

t.test('the built CLI exits 78 naming the variable', async (t) => {
  const r = runCli(
    [
      'run',
      '--upstream',
      'http://127.0.0.1:8080',
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--client-ca',
      files.ca,
      '--allow-any-verified',
    ],
    {
      MTLS_SIDECAR_STRIP_HEADER: 'X-Ok,bad name',
    },
  );
  t.equal(r.status, 78, r.stderr);
  t.match(r.stderr, /MTLS_SIDECAR_STRIP_HEADER: .*"bad name" is not a header name/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
