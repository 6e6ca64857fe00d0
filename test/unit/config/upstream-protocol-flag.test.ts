// --upstream-protocol: http1 by default, h2 from a flag, the environment or the config file; anything else refused
// naming the flag.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

t.test('values and sources', async (t) => {
  t.equal(loadConfig({ flags: base, env: {} }).upstreamProtocol, 'http1', 'default');
  t.equal(loadConfig({ flags: { ...base, 'upstream-protocol': 'h2' }, env: {} }).upstreamProtocol, 'h2');
  t.equal(
    loadConfig({ flags: base, env: { MTLS_SIDECAR_UPSTREAM_PROTOCOL: 'H2' } }).upstreamProtocol,
    'h2',
    'environment, any case',
  );
  const file = join(files.dir, 'grpc.yaml');
  writeFileSync(file, 'upstream-protocol: h2\n');
  t.equal(loadConfig({ flags: { ...base, config: file }, env: {} }).upstreamProtocol, 'h2', 'config file key');
  t.equal(
    loadConfig({ flags: { ...base, config: file, 'upstream-protocol': 'http1' }, env: {} }).upstreamProtocol,
    'http1',
    'flag beats file',
  );
});

t.test('a bad value names the flag and the choices', async (t) => {
  try {
    loadConfig({ flags: { ...base, 'upstream-protocol': 'h2c' }, env: {} });
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    t.match((err as ConfigError).problems.join('\n'), /--upstream-protocol.*"h2c" is not one of http1, h2/);
  }
});
