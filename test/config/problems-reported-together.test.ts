// Every configuration problem is reported at once, exit 78, each naming the flag, variable or file key at fault.
import t from 'tap';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

const config = files.write(
  'bad.yaml',
  ['listn: 0.0.0.0:8443', 'workers: many', 'forward-cert: 3', 'idle-timeout: 30', 'client-ca: 5', ''].join('\n'),
);
const env = {
  MTLS_SIDECAR_CONFIG: config,
  MTLS_SIDECAR_UPSTREAM_TIMOUT: '5s',
  MTLS_SIDECAR_HANDSHAKE_TIMEOUT: 'ten seconds',
  MTLS_SIDECAR_UPSTREAM: 'ftp://127.0.0.1:21',
  MTLS_SIDECAR_LOG_LEVEL: 'verbose',
};
const flags = ['--metrics-listen', '9090', '--min-tls-version', 'TLSv1.1', '--allow-cn', 'orders'];

// Each problem: the name it must carry and a word of the fix.
const expected: [string, RegExp][] = [
  ['unknown file key', new RegExp(`unknown key "listn" in ${config}.*did you mean listen`)],
  [
    'unknown env var',
    /unknown environment variable MTLS_SIDECAR_UPSTREAM_TIMOUT.*did you mean MTLS_SIDECAR_UPSTREAM_TIMEOUT/,
  ],
  ['wrong type (integer)', new RegExp(`workers in ${config}: expected a whole number`)],
  ['wrong type (boolean)', new RegExp(`forward-cert in ${config}: expected true or false`)],
  ['wrong type (list)', new RegExp(`client-ca in ${config}: expected a list`)],
  ['bare number duration', new RegExp(`idle-timeout in ${config}: 30 has no unit`)],
  ['bad duration', /MTLS_SIDECAR_HANDSHAKE_TIMEOUT: "ten seconds" is not a duration; write a number with a unit/],
  ['bad upstream', /MTLS_SIDECAR_UPSTREAM: "ftp:\/\/127.0.0.1:21": scheme "ftp:" is not supported/],
  ['bad enum', /MTLS_SIDECAR_LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent/],
  ['bad enum flag', /--min-tls-version: "TLSv1.1" is not one of TLSv1.2, TLSv1.3/],
  [
    'bad host:port',
    /--metrics-listen: "9090" is a port without a host; write 0\.0\.0\.0:9090 \(every interface\) or 127\.0\.0\.1:9090/,
  ],
  ['missing required', /--cert is required.*MTLS_SIDECAR_CERT/],
  ['missing required', /--key is required.*MTLS_SIDECAR_KEY/],
];

t.test('loadConfig throws one ConfigError carrying every problem', async (t) => {
  const flagOptions = { 'metrics-listen': '9090', 'min-tls-version': 'TLSv1.1', 'allow-cn': ['orders'] };
  const err = t.throws(() => loadConfig({ flags: flagOptions, env })) as unknown;
  t.type(err, ConfigError);
  const problems = (err as ConfigError).problems;
  t.equal((err as ConfigError).exitCode, 78);
  for (const [what, pattern] of expected) {
    t.ok(
      problems.some((p) => pattern.test(p)),
      `${what}: ${pattern}`,
    );
  }
  t.equal(problems.length, expected.length, 'no extra problems');
});

t.test('the built CLI prints all of them without a stack trace and exits 78', async (t) => {
  const r = runCli(['run', ...flags], env);
  t.equal(r.status, 78);
  t.match(r.stderr, /^mtls-sidecar: configuration refused:\n/);
  for (const [what, pattern] of expected) t.match(r.stderr, pattern, what);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.equal(r.stdout, '');
});

t.test('a missing or malformed config file is named', async (t) => {
  const missing = runCli(['--config', `${files.dir}/nope.yaml`, '--upstream', 'http://127.0.0.1:1']);
  t.equal(missing.status, 78);
  t.match(missing.stderr, `--config ${files.dir}/nope.yaml: file does not exist`);
  t.notMatch(missing.stderr, /is required/, 'no noise about options the unreadable file might have set');

  const broken = files.write('broken.yaml', 'upstream: [unclosed\n');
  const r = runCli(['run'], { MTLS_SIDECAR_CONFIG: broken });
  t.equal(r.status, 78);
  t.match(r.stderr, `MTLS_SIDECAR_CONFIG ${broken}: not valid YAML`);

  const brokenJson = files.write('broken.json', '{"upstream": "http://127.0.0.1:1",}');
  const j = runCli(['--config', brokenJson]);
  t.equal(j.status, 78);
  t.match(j.stderr, `--config ${brokenJson}: not valid JSON`);

  const scalar = files.write('scalar.yaml', 'just a string\n');
  const s = runCli(['--config', scalar]);
  t.equal(s.status, 78);
  t.match(s.stderr, 'the top level must be a mapping');

  const dir = runCli(['--config', files.dir]);
  t.equal(dir.status, 78);
  t.match(dir.stderr, 'is a directory');
});
