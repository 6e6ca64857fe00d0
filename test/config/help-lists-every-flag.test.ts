// `--help` on each config-taking command documents every flag of the README flag table with its environment name and
// default.
import t from 'tap';
import { runCli } from './fixtures.js';

// Written out from the README flag table by hand, not derived from the flag table, so a dropped or renamed flag is
// caught.
const SPEC_FLAGS: [flag: string, env: string, dflt: string][] = [
  ['--config', 'MTLS_SIDECAR_CONFIG', 'default: none'],
  ['--listen', 'MTLS_SIDECAR_LISTEN', 'default: 0.0.0.0:8443'],
  ['--upstream', 'MTLS_SIDECAR_UPSTREAM', 'required'],
  ['--upstream-ca', 'MTLS_SIDECAR_UPSTREAM_CA', 'default: system trust store'],
  ['--cert', 'MTLS_SIDECAR_CERT', 'required'],
  ['--key', 'MTLS_SIDECAR_KEY', 'required'],
  ['--client-ca', 'MTLS_SIDECAR_CLIENT_CA', 'required'],
  ['--crl', 'MTLS_SIDECAR_CRL', 'default: none'],
  ['--allow-cn', 'MTLS_SIDECAR_ALLOW_CN', 'default: none'],
  ['--allow-ou', 'MTLS_SIDECAR_ALLOW_OU', 'default: none'],
  ['--allow-o', 'MTLS_SIDECAR_ALLOW_O', 'default: none'],
  ['--allow-dns', 'MTLS_SIDECAR_ALLOW_DNS', 'default: none'],
  ['--allow-uri', 'MTLS_SIDECAR_ALLOW_URI', 'default: none'],
  ['--allow-email', 'MTLS_SIDECAR_ALLOW_EMAIL', 'default: none'],
  ['--allow-serial', 'MTLS_SIDECAR_ALLOW_SERIAL', 'default: none'],
  ['--allow-fingerprint', 'MTLS_SIDECAR_ALLOW_FINGERPRINT', 'default: none'],
  ['--allow-subject', 'MTLS_SIDECAR_ALLOW_SUBJECT', 'default: none'],
  ['--allow-any-verified', 'MTLS_SIDECAR_ALLOW_ANY_VERIFIED', 'default: false'],
  ['--policy', 'MTLS_SIDECAR_POLICY', 'default: none'],
  ['--metrics-listen', 'MTLS_SIDECAR_METRICS_LISTEN', 'default: 127.0.0.1:8444'],
  ['--min-tls-version', 'MTLS_SIDECAR_MIN_TLS_VERSION', 'default: TLSv1.2'],
  ['--forward-cert', 'MTLS_SIDECAR_FORWARD_CERT', 'default: false'],
  ['--strip-header', 'MTLS_SIDECAR_STRIP_HEADER', 'default: none'],
  ['--upstream-timeout', 'MTLS_SIDECAR_UPSTREAM_TIMEOUT', 'default: 30s'],
  ['--request-timeout', 'MTLS_SIDECAR_REQUEST_TIMEOUT', 'default: 5m'],
  ['--upstream-protocol', 'MTLS_SIDECAR_UPSTREAM_PROTOCOL', 'default: http1'],
  ['--handshake-timeout', 'MTLS_SIDECAR_HANDSHAKE_TIMEOUT', 'default: 10s'],
  ['--headers-timeout', 'MTLS_SIDECAR_HEADERS_TIMEOUT', 'default: 30s'],
  ['--idle-timeout', 'MTLS_SIDECAR_IDLE_TIMEOUT', 'default: 60s'],
  ['--reload-interval', 'MTLS_SIDECAR_RELOAD_INTERVAL', 'default: 5s'],
  ['--shutdown-grace', 'MTLS_SIDECAR_SHUTDOWN_GRACE', 'default: 20s'],
  ['--workers', 'MTLS_SIDECAR_WORKERS', 'default: 1'],
  ['--max-connections', 'MTLS_SIDECAR_MAX_CONNECTIONS', 'default: 512'],
  ['--max-handshakes', 'MTLS_SIDECAR_MAX_HANDSHAKES', 'default: 128'],
  ['--max-concurrent-streams', 'MTLS_SIDECAR_MAX_CONCURRENT_STREAMS', 'default: 100'],
  ['--upstream-max-connections', 'MTLS_SIDECAR_UPSTREAM_MAX_CONNECTIONS', 'default: 512'],
  ['--upstream-streams-per-connection', 'MTLS_SIDECAR_UPSTREAM_STREAMS_PER_CONNECTION', 'default: 50'],
  ['--allow-insecure-posture', 'MTLS_SIDECAR_ALLOW_INSECURE_POSTURE', 'default: false'],
  ['--log-level', 'MTLS_SIDECAR_LOG_LEVEL', 'default: info'],
];

// `dev` fills in what `run` requires and listens on loopback: its help says so instead of run's defaults.
const DEV_DEFAULTS: Record<string, string> = {
  '--listen': 'default: 127.0.0.1:8443',
  '--upstream': 'default: a built-in echo upstream',
  '--cert': 'default: development certificates in ./.mtls-dev',
  '--key': 'default: development certificates in ./.mtls-dev',
  '--client-ca': 'default: development certificates in ./.mtls-dev',
  '--allow-uri': 'default: the development client',
  '--metrics-listen': 'default: 127.0.0.1:8444, or a free port when that one is in use',
  '--allow-insecure-posture': 'default: true (findings are printed, not enforced)',
};
const BOOLEANS = ['--allow-any-verified', '--forward-cert', '--allow-insecure-posture'];

for (const command of ['run', 'dev', 'check', 'inspect']) {
  t.test(`${command} --help`, async (t) => {
    const r = runCli([command, '--help']);
    t.equal(r.status, 0);
    // commander wraps long lines; compare with runs of whitespace collapsed.
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const [flag, env, specDefault] of SPEC_FLAGS) {
      const dflt = (command === 'dev' ? DEV_DEFAULTS[flag] : undefined) ?? specDefault;
      t.ok(new RegExp(`${flag}( <[^>]+>)? `).test(help), `lists ${flag}`);
      t.ok(help.includes(`[env ${env}; ${dflt}]`), `${flag}: env ${env}, ${dflt}`);
    }
    if (command === 'dev') t.notOk(help.includes('; required]'), 'nothing is marked required in dev');
    for (const flag of BOOLEANS)
      t.ok(help.includes(`--no-${flag.slice(2)} turn ${flag} off`), `lists --no-${flag.slice(2)}`);
    t.ok(
      help.includes(
        'Exit codes: 0 ok, 1 check failed, 2 usage, 78 configuration or posture refused, 70 internal error.',
      ),
      'every exit code',
    );
    const listed = help.match(/ --[a-z-]+/g) ?? [];
    const known = new Set([
      ...SPEC_FLAGS.map(([f]) => f),
      ...BOOLEANS.map((f) => `--no-${f.slice(2)}`),
      '--help',
      '--json',
    ]);
    t.same(
      listed.map((s) => s.trim()).filter((f) => !known.has(f)),
      [],
      'no undocumented flags in help',
    );
  });
}

t.test('certs init --help: no "(default: [])", and the NAME=URI form', async (t) => {
  const r = runCli(['certs', 'init', '--help']);
  t.equal(r.status, 0);
  const help = r.stdout.replace(/\s+/g, ' ');
  t.notMatch(help, /default: \[\]|default: false/);
  t.match(help, /--uri <\[name=\]uri> .*NAME=URI for client NAME, or a bare URI when only one client is made/);
  t.match(help, /--client <name> .*default: one client named "client"/);
});

t.test('the default command is run, so `mtls-sidecar --help` points to the per-command help', async (t) => {
  const r = runCli(['--help']);
  t.equal(r.status, 0);
  for (const command of ['run', 'dev', 'check', 'inspect', 'certs'])
    t.match(r.stdout, new RegExp(`\\n  ${command}\\b`));
});

t.test('certs init --help shows its defaults', async (t) => {
  const r = runCli(['certs', 'init', '--help']);
  t.equal(r.status, 0);
  const help = r.stdout.replace(/\s+/g, ' ');
  t.match(help, /--hosts <list>.*default: "localhost,127.0.0.1"/);
  t.match(help, /--client <name>/);
  t.match(help, /--uri <\[name=\]uri>/);
  t.match(help, /--force/);
});
