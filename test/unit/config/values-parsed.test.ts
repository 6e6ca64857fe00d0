// Addresses, upstreams, durations, enums and numbers parse into typed values; bad ones are refused with the fix.
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import type { Config } from '../../../src/config/types.js';
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
const load = (flags: Record<string, unknown>): Config => loadConfig({ flags: { ...base, ...flags }, env: {} });
const problemsOf = (flags: Record<string, unknown>): string[] => {
  try {
    load(flags);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

t.test('listen and metrics-listen', async (t) => {
  t.same(load({ listen: '[::]:8443' }).listen, { host: '::', port: 8443 });
  t.same(load({ listen: '127.0.0.1:0' }).listen, { host: '127.0.0.1', port: 0 });
  t.same(load({ listen: 'localhost:443' }).listen, { host: 'localhost', port: 443 });
  t.same(load({ listen: '[::1]:9443' }).listen, { host: '::1', port: 9443 });
  t.equal(load({ 'metrics-listen': 'off' }).metricsListen, null);
  t.equal(load({ 'metrics-listen': 'OFF' }).metricsListen, null);
  t.same(load({ 'metrics-listen': '0.0.0.0:9100' }).metricsListen, { host: '0.0.0.0', port: 9100 });
  for (const bad of [
    '8443',
    '::1:8443',
    '[::1]',
    '[nothost]:80',
    '0.0.0.0:65536',
    '0.0.0.0:http',
    ':8443',
    'bad_host:80',
    '[::]:',
  ]) {
    const problems = problemsOf({ listen: bad });
    t.equal(problems.length, 1, `refuses ${bad}`);
    t.match(
      problems[0],
      /^--listen: .*(\[::\]:8443|0\.0\.0\.0:8443)/,
      `names --listen and shows an example for ${bad}`,
    );
  }
});

t.test('upstream forms become the Upstream union', async (t) => {
  const http = load({ upstream: 'http://127.0.0.1:8080' }).upstream;
  t.match(http, { kind: 'http', host: '127.0.0.1', port: 8080, origin: 'http://127.0.0.1:8080' });
  const https = load({ upstream: 'https://api.internal:9443/' }).upstream;
  t.match(https, { kind: 'https', host: 'api.internal', port: 9443, origin: 'https://api.internal:9443' });
  const v6 = load({ upstream: 'http://[::1]:8080' }).upstream;
  t.match(v6, { kind: 'http', host: '::1', port: 8080, origin: 'http://[::1]:8080' });
  t.match(load({ upstream: 'https://api.internal' }).upstream, { kind: 'https', port: 443 });
  t.match(load({ upstream: 'http://api.internal' }).upstream, { kind: 'http', port: 80 });
  t.match(load({ upstream: 'unix:/run/app/api.sock' }).upstream, { kind: 'unix', socketPath: '/run/app/api.sock' });
  t.match(load({ upstream: 'unix:///run/app/api.sock' }).upstream, { kind: 'unix', socketPath: '/run/app/api.sock' });
  for (const bad of [
    '127.0.0.1:8080',
    'ftp://host:21',
    'http://host:8080/api',
    'http://host:8080/?q=1',
    'http://u:p@host:1',
    'unix:relative.sock',
    'http://host:0',
    'not a url',
  ]) {
    const problems = problemsOf({ upstream: bad });
    t.equal(problems.length, 1, `refuses ${bad}`);
    t.match(problems[0], /^--upstream: /);
  }
});

t.test('durations become milliseconds', async (t) => {
  const table: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
  ];
  for (const [text, ms] of table) t.equal(load({ 'upstream-timeout': text }).upstreamTimeoutMs, ms, text);
  t.equal(load({ 'shutdown-grace': '0s' }).shutdownGraceMs, 0, 'no drain is allowed');
  for (const bad of ['30', '30 s', 'thirty', '-5s', '0s', '30d', '1000h', '']) {
    const problems = problemsOf({ 'upstream-timeout': bad });
    t.equal(problems.length, 1, `refuses ${JSON.stringify(bad)}`);
    t.match(problems[0], /^--upstream-timeout: /);
  }
  t.match(problemsOf({ 'reload-interval': '1ms' })[0], /--reload-interval: .*too short/);
});

t.test('enums, integers and booleans', async (t) => {
  t.equal(load({ 'min-tls-version': 'TLSv1.3' }).minTlsVersion, 'TLSv1.3');
  t.equal(load({ 'min-tls-version': 'tlsv1.3' }).minTlsVersion, 'TLSv1.3');
  t.equal(load({ 'log-level': 'debug' }).logLevel, 'debug');
  t.equal(load({ workers: '4' }).workers, 4);
  t.equal(load({ workers: 4 }).workers, 4);
  for (const [key, bad] of [
    ['min-tls-version', 'TLSv1.0'],
    ['log-level', 'loud'],
    ['workers', '0'],
    ['workers', '1.5'],
    ['workers', '-1'],
    ['forward-cert', 'maybe'],
  ] as const) {
    const problems = problemsOf({ [key]: bad });
    t.equal(problems.length, 1, `refuses ${key}=${bad}`);
    t.match(problems[0], new RegExp(`^--${key}: `));
  }
  const env = { MTLS_SIDECAR_FORWARD_CERT: 'yes', MTLS_SIDECAR_ALLOW_INSECURE_POSTURE: '1' };
  const c = loadConfig({ flags: base, env });
  t.equal(c.forwardCert, true);
  t.equal(c.allowInsecurePosture, true);
});

t.test('serial and fingerprint rules must be hex', async (t) => {
  const fp = 'AB:'.repeat(31) + 'AB';
  t.same(load({ 'allow-fingerprint': [`sha256:${fp}`] }).allow.fingerprint, [`sha256:${fp}`]);
  t.same(load({ 'allow-serial': ['0a:1B'] }).allow.serial, ['0a:1B']);
  t.match(problemsOf({ 'allow-serial': ['xyz'] })[0], /^--allow-serial: "xyz" is not a hexadecimal serial/);
  t.match(
    problemsOf({ 'allow-fingerprint': ['abcd'] })[0],
    /^--allow-fingerprint: "abcd" is not a SHA-256 fingerprint/,
  );
});

t.test('YAML numbers where text is needed are refused with a hint to quote them', async (t) => {
  const config = files.write('numbers.yaml', 'allow-serial: [1234]\n');
  const err = t.throws(() => loadConfig({ flags: { ...base, config }, env: {} })) as ConfigError;
  t.match(err.problems[0], new RegExp(`allow-serial in ${config}: expected text, got number 1234 \\(quote it`));
});
