// Precedence: flag > environment > config file (YAML or JSON) > command fallbacks > built-in defaults.
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

const required = {
  upstream: 'http://127.0.0.1:8080',
  cert: files.cert,
  key: files.key,
  'client-ca': [files.ca],
  'allow-cn': ['orders'],
};

t.test('built-in defaults apply when no source sets a value', async (t) => {
  const c = loadConfig({ flags: required, env: {} });
  t.same(c.listen, { host: '0.0.0.0', port: 8443 });
  t.same(c.metricsListen, { host: '127.0.0.1', port: 8444 }, 'not 9090: Prometheus and Cockpit use that');
  t.equal(c.minTlsVersion, 'TLSv1.2');
  t.equal(c.upstreamTimeoutMs, 30_000);
  t.equal(c.handshakeTimeoutMs, 10_000);
  t.equal(c.headersTimeoutMs, 30_000);
  t.equal(c.idleTimeoutMs, 60_000);
  t.equal(c.reloadIntervalMs, 5_000);
  t.equal(c.shutdownGraceMs, 20_000);
  t.equal(c.workers, 1);
  t.equal(c.logLevel, 'info');
  t.equal(c.forwardCert, false);
  t.equal(c.allowAnyVerified, false);
  t.equal(c.allowInsecurePosture, false);
  t.same(c.crl, []);
  t.equal(c.upstreamCa, undefined);
  t.equal(c.policy, undefined);
  t.same(c.allow, {
    cn: ['orders'],
    ou: [],
    o: [],
    dns: [],
    uri: [],
    email: [],
    serial: [],
    fingerprint: [],
    subject: [],
  });
});

for (const format of ['yaml', 'json'] as const) {
  t.test(`flag beats env beats ${format} file beats fallback beats default`, async (t) => {
    const fileBody = {
      'upstream-timeout': '3s',
      'idle-timeout': '4s',
      'headers-timeout': '5s',
      'log-level': 'warn',
      'client-ca': [files.ca, files.ca2],
      'allow-uri': ['spiffe://example.org/ns/prod/*'],
      workers: 3,
      'forward-cert': true,
    };
    const text =
      format === 'json'
        ? JSON.stringify(fileBody)
        : `upstream-timeout: 3s\nidle-timeout: 4s\nheaders-timeout: 5s\nlog-level: warn\nclient-ca:\n  - ${files.ca}\n  - ${files.ca2}\nallow-uri: ["spiffe://example.org/ns/prod/*"]\nworkers: 3\nforward-cert: true\n`;
    const config = files.write(`config.${format}`, text);
    const c = loadConfig({
      flags: { ...required, 'client-ca': undefined, config, 'upstream-timeout': '1s', 'forward-cert': false },
      env: { MTLS_SIDECAR_UPSTREAM_TIMEOUT: '2s', MTLS_SIDECAR_IDLE_TIMEOUT: '2500ms', MTLS_SIDECAR_WORKERS: '2' },
      fallbacks: { 'headers-timeout': '9s', 'shutdown-grace': '7s', 'log-level': 'debug' },
    });
    t.equal(c.upstreamTimeoutMs, 1000, 'flag wins over env and file');
    t.equal(c.forwardCert, false, 'a false flag wins over true in the file');
    t.equal(c.idleTimeoutMs, 2500, 'env wins over file');
    t.equal(c.workers, 2, 'env wins over file');
    t.equal(c.headersTimeoutMs, 5000, 'file wins over fallback');
    t.equal(c.logLevel, 'warn', 'file wins over fallback');
    t.equal(c.shutdownGraceMs, 7000, 'fallback wins over default');
    t.equal(c.reloadIntervalMs, 5000, 'default when nothing is set');
    t.same(c.clientCa, [files.ca, files.ca2], 'list from the file');
    t.same(c.allow.uri, ['spiffe://example.org/ns/prod/*']);
    t.same(c.allow.cn, ['orders']);
  });
}

t.test('env lists are comma-separated and trimmed; a flag list replaces the env list', async (t) => {
  const env = {
    MTLS_SIDECAR_UPSTREAM: 'http://127.0.0.1:8080',
    MTLS_SIDECAR_CERT: files.cert,
    MTLS_SIDECAR_KEY: files.key,
    MTLS_SIDECAR_CLIENT_CA: `${files.ca}, ${files.ca2},`,
    MTLS_SIDECAR_ALLOW_CN: 'orders,billing',
    MTLS_SIDECAR_ALLOW_DNS: 'a.example, *.b.example',
    MTLS_SIDECAR_ALLOW_SUBJECT: 'CN=orders,O=Acme;CN=billing,O=Acme',
  };
  const c = loadConfig({ flags: {}, env });
  t.same(c.clientCa, [files.ca, files.ca2]);
  t.same(c.allow.cn, ['orders', 'billing']);
  t.same(c.allow.dns, ['a.example', '*.b.example']);
  t.same(c.allow.subject, ['CN=orders,O=Acme', 'CN=billing,O=Acme'], "subjects split on ';' because they contain ','");
  const overridden = loadConfig({ flags: { 'allow-cn': ['shipping'] }, env });
  t.same(overridden.allow.cn, ['shipping']);
});

t.test(
  'relative paths in a config file are resolved against the file, flags against the working directory',
  async (t) => {
    const config = files.write('relative.yaml', 'cert: server.crt\nkey: ./server.key\nclient-ca: [ca.pem]\n');
    const c = loadConfig({ flags: { config, upstream: 'http://127.0.0.1:1', 'allow-any-verified': true }, env: {} });
    t.equal(c.cert, files.cert);
    t.equal(c.key, files.key);
    t.same(c.clientCa, [files.ca]);
  },
);
