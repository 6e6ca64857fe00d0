// Fail closed: no allow rule, no policy and no --allow-any-verified is refused (78) — never read as "everyone".
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
const base = { upstream: 'http://127.0.0.1:8080', cert: files.cert, key: files.key, 'client-ca': [files.ca] };

t.test('refused in-process, with a message listing the flags that fix it', async (t) => {
  const err = t.throws(() => loadConfig({ flags: base, env: {} })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.problems.length, 1);
  const [problem = ''] = err.problems;
  t.match(problem, /never means "everyone"/);
  for (const flag of [
    '--allow-cn',
    '--allow-ou',
    '--allow-o',
    '--allow-dns',
    '--allow-uri',
    '--allow-email',
    '--allow-serial',
    '--allow-fingerprint',
    '--allow-subject',
    '--policy',
    '--allow-any-verified',
  ]) {
    t.ok(problem.includes(flag), `names ${flag}`);
  }
});

t.test('empty lists and an explicit false still count as empty', async (t) => {
  const config = files.write('empty-lists.yaml', 'allow-cn: []\nallow-uri: []\nallow-any-verified: false\n');
  t.throws(() => loadConfig({ flags: { ...base, config }, env: { MTLS_SIDECAR_ALLOW_DNS: ' , ' } }), ConfigError);
  t.throws(() => loadConfig({ flags: base, env: { MTLS_SIDECAR_ALLOW_ANY_VERIFIED: 'false' } }), ConfigError);
});

t.test('any one of the fixes is accepted', async (t) => {
  t.same(loadConfig({ flags: { ...base, 'allow-uri': ['spiffe://example.org/ns/prod/*'] }, env: {} }).allow.uri, [
    'spiffe://example.org/ns/prod/*',
  ]);
  t.equal(loadConfig({ flags: base, env: { MTLS_SIDECAR_POLICY: files.policy } }).policy, files.policy);
  t.equal(loadConfig({ flags: { ...base, 'allow-any-verified': true }, env: {} }).allowAnyVerified, true);
  t.equal(loadConfig({ flags: base, env: { MTLS_SIDECAR_ALLOW_ANY_VERIFIED: 'true' } }).allowAnyVerified, true);
});
