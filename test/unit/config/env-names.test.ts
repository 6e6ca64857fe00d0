// Environment: an unknown MTLS_SIDECAR_* name is refused by name; DEBUG, Kubernetes service links and empty values are
// not.
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
const env = {
  MTLS_SIDECAR_UPSTREAM: 'http://127.0.0.1:8080',
  MTLS_SIDECAR_CERT: files.cert,
  MTLS_SIDECAR_KEY: files.key,
  MTLS_SIDECAR_CLIENT_CA: files.ca,
  MTLS_SIDECAR_ALLOW_ANY_VERIFIED: 'true',
};

t.test('unknown names are refused, each named', async (t) => {
  const err = t.throws(() =>
    loadConfig({ flags: {}, env: { ...env, MTLS_SIDECAR_ALOW_CN: 'x', MTLS_SIDECAR_TOTALLY_UNRELATED: '1' } }),
  ) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.problems.length, 2);
  t.match(err.problems[0], /unknown environment variable MTLS_SIDECAR_ALOW_CN.*did you mean MTLS_SIDECAR_ALLOW_CN/);
  t.match(err.problems[1], /unknown environment variable MTLS_SIDECAR_TOTALLY_UNRELATED/);
});

t.test(
  'debug switch and Kubernetes service links for a Service named mtls-sidecar are not configuration',
  async (t) => {
    const links = {
      MTLS_SIDECAR_DEBUG: '1',
      MTLS_SIDECAR_SERVICE_HOST: '10.96.0.12',
      MTLS_SIDECAR_SERVICE_PORT: '8443',
      MTLS_SIDECAR_SERVICE_PORT_HTTPS: '8443',
      MTLS_SIDECAR_PORT: 'tcp://10.96.0.12:8443',
      MTLS_SIDECAR_PORT_8443_TCP: 'tcp://10.96.0.12:8443',
      MTLS_SIDECAR_PORT_8443_TCP_PROTO: 'tcp',
      MTLS_SIDECAR_PORT_8443_TCP_PORT: '8443',
      MTLS_SIDECAR_PORT_8443_TCP_ADDR: '10.96.0.12',
    };
    const c = loadConfig({ flags: {}, env: { ...env, ...links } });
    t.same(c.listen, { host: '0.0.0.0', port: 8443 });
  },
);

t.test('an empty variable counts as unset', async (t) => {
  const c = loadConfig({ flags: {}, env: { ...env, MTLS_SIDECAR_LISTEN: '', MTLS_SIDECAR_CRL: ' ' } });
  t.same(c.listen, { host: '0.0.0.0', port: 8443 });
  t.same(c.crl, []);
});

t.test('a comma inside one list entry is written \\,', async (t) => {
  const c = loadConfig({ flags: {}, env: { ...env, MTLS_SIDECAR_ALLOW_O: 'Acme\\, Inc.,Other' } });
  t.same(c.allow.o, ['Acme, Inc.', 'Other']);
});
