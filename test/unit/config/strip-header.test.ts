// --strip-header comes from a flag, MTLS_SIDECAR_STRIP_HEADER or the config file, normalized like every header
// comparison (lower case, `_` as `-`); a value that is not a header name, or one the exchange needs, is refused (78).
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
const base = {
  upstream: 'http://127.0.0.1:8080',
  cert: files.cert,
  key: files.key,
  'client-ca': [files.ca],
  'allow-any-verified': true,
};

t.test('every source gives the same normalized set', async (t) => {
  const fromFlags = loadConfig({ flags: { ...base, 'strip-header': ['X-Tenant-Id', 'X_Internal_Role'] }, env: {} });
  t.same([...fromFlags.stripHeaders], ['x-tenant-id', 'x-internal-role']);
  const fromEnv = loadConfig({ flags: base, env: { MTLS_SIDECAR_STRIP_HEADER: 'X-Tenant-Id, X_Internal_Role' } });
  t.same([...fromEnv.stripHeaders], ['x-tenant-id', 'x-internal-role']);
  const file = files.write('strip.yaml', 'strip-header:\n  - X-Tenant-Id\n  - x_internal_role\n');
  const fromFile = loadConfig({ flags: { ...base, config: file }, env: {} });
  t.same([...fromFile.stripHeaders], ['x-tenant-id', 'x-internal-role']);
  t.same([...loadConfig({ flags: base, env: {} }).stripHeaders], [], 'none by default');
});

t.test('bad names are configuration errors that say why', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['X Tenant', /^--strip-header: "X Tenant" is not a header name/],
    ['X-Tenant:', /^--strip-header: "X-Tenant:" is not a header name/],
    ['Host', /^--strip-header: "Host" frames or routes the request and cannot be removed/],
    ['Content_Length', /"Content_Length" frames or routes the request/],
    ['transfer-encoding', /frames or routes/],
    ['TE', /frames or routes/],
    ['Upgrade', /frames or routes/],
  ];
  for (const [value, message] of cases) {
    const err = t.throws(() => loadConfig({ flags: { ...base, 'strip-header': [value] }, env: {} })) as ConfigError;
    t.ok(err instanceof ConfigError, `${value}: ConfigError`);
    t.match(err.problems[0], message, `${value}: ${err.problems[0]}`);
  }
});
