// Other proxies' client-certificate and authenticated-user headers, and the operator's own --strip-header names, never
// reach the upstream in any spelling (any case, `_` for `-`, repeated); the upstream's raw header list is the oracle.
import t from 'tap';
import { normalizeHeaderName } from '../../src/http/header-sanitize.js';
import { baseConfig, makeTestPki, rawHeaderValues, rawTlsExchange, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';

const CONVENTIONS = [
  'X-SSL-Client-Verify',
  'X-SSL-Client-S-DN',
  'X-SSL-Client-DN',
  'SSL-Client-Verify',
  'X-ARR-ClientCert',
  'X-Amzn-Mtls-Clientcert',
  'Remote-User',
  'X-Remote-User',
  'X-Forwarded-User',
  'X-Auth-Request-User',
  'X-Client-Verify',
  'X-Client-DN',
  'X-Spiffe-Id',
  'X-Forwarded-Client-Cert-Chain',
  // Siblings of the same conventions.
  'X-SSL-Client-I-DN',
  'X-Amzn-Mtls-Clientcert-Leaf',
  'X-Auth-Request-Email',
  'X-Forwarded-Groups',
];
const OPERATOR_NAMES = ['X-Tenant-Id', 'X-Internal-Role'];

/** The spellings a framework may fold into one name: as written, lower, upper, underscores, mixed. */
function spellings(name: string): string[] {
  const underscored = name.replaceAll('-', '_');
  return [name, name.toLowerCase(), name.toUpperCase(), underscored, underscored.toLowerCase()];
}

t.test('identity conventions and --strip-header names are removed in every spelling', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const strip = new Set(OPERATOR_NAMES.map(normalizeHeaderName));
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { stripHeaders: strip }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  const lines: string[] = [];
  for (const name of [...CONVENTIONS, ...OPERATOR_NAMES]) {
    spellings(name).forEach((spelling, i) => lines.push(`${spelling}: forged-${i}`));
    lines.push(`${name}: forged-again`); // a plain duplicate
  }
  const payload = `GET /ok HTTP/1.1\r\nHost: localhost\r\n${lines.join('\r\n')}\r\nX-Kept: yes\r\nX-Tenant: not-listed\r\nContent-Length: 0\r\n\r\n`;
  const result = await rawTlsExchange({ port: proxy.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem, payload, timeoutMs: 3000 });
  t.match(result.received, /^HTTP\/1\.1 200 /, 'request answered');
  t.equal(upstream.received.length, 1, 'forwarded once');
  const got = upstream.received[0]!;
  const forbidden = new Set([...CONVENTIONS, ...OPERATOR_NAMES].map(normalizeHeaderName));
  const leaked: string[] = [];
  for (let i = 0; i < got.rawHeaders.length; i += 2) {
    const name = got.rawHeaders[i] ?? '';
    if (forbidden.has(normalizeHeaderName(name))) leaked.push(name);
  }
  t.same(leaked, [], 'none of the names reached the upstream');
  t.notMatch(got.rawHeaders.join('\n'), /forged/, 'no forged value reached the upstream under any name');
  t.same(rawHeaderValues(got, 'x-kept'), ['yes'], 'other headers pass');
  t.same(rawHeaderValues(got, 'x-tenant'), ['not-listed'], 'a name that only starts like a stripped one passes');
});
