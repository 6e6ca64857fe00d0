// --upstream-ca only means something for an https:// upstream; with http:// or a unix socket it is refused.
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
const base = {
  cert: files.cert,
  key: files.key,
  'client-ca': [files.ca],
  'allow-any-verified': true,
  'upstream-ca': files.ca2,
};

t.test('accepted with https', async (t) => {
  t.equal(loadConfig({ flags: { ...base, upstream: 'https://127.0.0.1:9443' }, env: {} }).upstreamCa, files.ca2);
});

for (const upstream of ['http://127.0.0.1:8080', 'unix:/run/api.sock']) {
  t.test(`refused with ${upstream}`, async (t) => {
    const err = t.throws(() => loadConfig({ flags: { ...base, upstream }, env: {} })) as ConfigError;
    t.type(err, ConfigError);
    t.equal(err.problems.length, 1);
    t.match(err.problems[0], /^--upstream-ca: only applies to an https:\/\/ upstream/);
  });
}
