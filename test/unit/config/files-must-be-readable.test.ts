// Every file the proxy reads (cert, key, client CAs, CRLs, policy, upstream CA) must exist, be a file and be readable.
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

t.test('missing files, directories and dangling links are each named with the option that gave them', async (t) => {
  const missing = join(files.dir, 'missing.pem');
  const dir = join(files.dir, 'a-directory');
  mkdirSync(dir);
  const dangling = join(files.dir, 'dangling.pem');
  symlinkSync(join(files.dir, 'gone.pem'), dangling);
  const err = t.throws(() =>
    loadConfig({
      flags: {
        upstream: 'https://127.0.0.1:8443',
        cert: missing,
        key: dir,
        'client-ca': [files.ca, dangling],
        crl: [missing],
        'upstream-ca': dir,
      },
      env: { MTLS_SIDECAR_POLICY: missing },
    }),
  ) as ConfigError;
  t.type(err, ConfigError);
  const expected = [
    `--cert: "${missing}": file does not exist`,
    `--key: "${dir}": is a directory`,
    `--client-ca: "${dangling}": file does not exist`,
    `--crl: "${missing}": file does not exist`,
    `MTLS_SIDECAR_POLICY: "${missing}": file does not exist`,
    `--upstream-ca: "${dir}": is a directory`,
  ];
  for (const e of expected)
    t.ok(
      err.problems.some((p) => p.startsWith(e)),
      e,
    );
  t.equal(err.problems.length, expected.length, 'nothing else (the policy counts as an allow source even if missing)');
});

t.test(
  'an unreadable file is refused',
  { skip: process.getuid?.() === 0 ? 'root reads every file' : false },
  async (t) => {
    const secret = files.write('unreadable.key', 'x');
    chmodSync(secret, 0o000);
    const err = t.throws(() =>
      loadConfig({
        flags: {
          upstream: 'http://127.0.0.1:1',
          cert: files.cert,
          key: secret,
          'client-ca': [files.ca],
          'allow-any-verified': true,
        },
        env: {},
      }),
    ) as ConfigError;
    t.match(err.problems[0], /^--key: .*cannot be read by this process/);
  },
);
