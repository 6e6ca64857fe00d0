// A URI SAN stands for the caller only if it is an unambiguous URI: `spiffe://` IDs must follow the SPIFFE ID rules
// and no URI may carry userinfo. `spiffe://example.org:443@evil.org/x` passes OpenSSL's URI name constraint for
// example.org yet names evil.org; such a SAN matches no rule and is never forwarded.
import t from 'tap';
import { compileAllowRules } from '../../src/authz/allow-rules.js';
import { ConfigError } from '../../src/errors.js';
import { uriSanProblem } from '../../src/identity/uri-san.js';
import {
  baseConfig,
  httpsRequest,
  rawHeaderValues,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import { chainPem, makeCa, makeCaWithExtensions, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

t.test('SPIFFE ID rules and userinfo', async (t) => {
  const valid = [
    'spiffe://example.org',
    'spiffe://example.org/ns/prod/sa/orders',
    'spiffe://a-b_c.d/x.y-z_1',
    'urn:uuid:1234',
    'https://example.org:8443/x?y#z',
    'mailto:a@example.org',
  ];
  for (const uri of valid) t.equal(uriSanProblem(uri), null, `usable: ${uri}`);
  const invalid = [
    'spiffe://example.org:443@evil.org/x',
    'spiffe://user@example.org/x',
    'spiffe://example.org:8443/x',
    'spiffe://Example.org/x',
    'SPIFFE://example.org/x',
    'spiffe://example.org/x?admin=1',
    'spiffe://example.org/x#f',
    'spiffe://example.org/',
    'spiffe://example.org/a//b',
    'spiffe://example.org/a/../b',
    'spiffe://example.org/./b',
    'spiffe://example.org/a%2Fb',
    'spiffe://',
    'spiffe:example.org/x',
    'spiffe://exa mple.org/x',
    `spiffe://example.org/${'a'.repeat(2100)}`,
    'https://example.org@evil.org/',
    'http://u:p@host/x',
  ];
  for (const uri of invalid)
    t.not(uriSanProblem(uri), null, `left out: ${uri.slice(0, 60)} (${uriSanProblem(uri) ?? ''})`);
});

t.test('a rule that could only match an unusable URI is a configuration error', async (t) => {
  for (const uri of ['spiffe://example.org:443@evil.org/x', 'https://a@example.org/*', 'spiffe://Example.org/ns/*']) {
    const err = t.throws(() => compileAllowRules([{ uri }], '--allow-*')) as ConfigError;
    t.ok(err instanceof ConfigError, uri);
    t.match(err.problems.join(), /can never match/);
  }
});

t.test('over real TLS, under an intermediate name-constrained to example.org', async (t) => {
  const dir = makeTmpDir('mtls-uri-san-');
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root', { subject: '/CN=Root' });
  const inter = makeCaWithExtensions(dir, 'inter', root, ['nameConstraints = critical,permitted;URI:example.org'], {
    subject: '/CN=example.org workloads',
  });
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const userinfo = makeLeaf(dir, 'mallory', inter, {
    subject: '/CN=mallory',
    san: ['URI:spiffe://example.org:443@evil.org/x'],
  });
  const query = makeLeaf(dir, 'query', inter, {
    subject: '/CN=query',
    san: ['URI:spiffe://example.org/ns/prod/sa?admin=1'],
  });
  const good = makeLeaf(dir, 'good', inter, {
    subject: '/CN=good',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders'],
  });
  // Without a name constraint in the way, so the handshake surely admits it.
  const unconstrained = makeLeaf(dir, 'mallory-root', root, {
    subject: '/CN=mallory',
    san: ['URI:spiffe://example.org:443@evil.org/x'],
  });
  const pki: TestPki = { dir, ca: root, server, client: good, cleanup: () => undefined };
  const noAllow = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };
  const upstream = await startRecordingUpstream();
  const byUri = await startTestProxy(
    baseConfig(pki, upstream.url, { allow: { ...noAllow, uri: ['spiffe://example.org/ns/prod/*'] } }),
  );
  const anyone = await startTestProxy(
    baseConfig(pki, upstream.url, { allow: noAllow, allowAnyVerified: true, forwardCert: false }),
  );
  t.teardown(async () => {
    await byUri.close(0);
    await anyone.close(0);
    await upstream.close();
  });
  const call = (port: number, leaf: typeof good) =>
    httpsRequest({
      port,
      ca: root.certPem,
      cert: chainPem(leaf, inter),
      key: leaf.keyPem,
      headers: { 'X-Client-URI': 'spiffe://example.org/ns/prod/sa/orders' },
    });

  t.equal((await call(byUri.port, good)).status, 200, 'a valid SPIFFE ID under the prefix is admitted');
  t.same(rawHeaderValues(upstream.received.at(-1)!, 'x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  const before = upstream.received.length;
  t.equal((await call(byUri.port, query)).status, 403, 'a SPIFFE ID with a query does not match the prefix rule');
  t.equal(upstream.received.length, before, 'the upstream received nothing');

  for (const leaf of [unconstrained, query]) {
    const res = await call(anyone.port, leaf);
    t.equal(res.status, 200, `${leaf.name}: the handshake accepts it and any-verified admits it`);
    const seen = upstream.received.at(-1)!;
    t.same(rawHeaderValues(seen, 'x-client-uri'), [], `${leaf.name}: no X-Client-URI (the forged one is stripped too)`);
    t.notMatch(rawHeaderValues(seen, 'x-forwarded-client-cert').join(), /URI=/, `${leaf.name}: no URI= in XFCC`);
  }

  // OpenSSL 3.0's URI name-constraint check reads the host up to the ':' (example.org) and passes it; newer OpenSSL
  // builds refuse it in the handshake. Either way it must never be forwarded as an identity.
  const beforeConstrained = upstream.received.length;
  const constrained = await call(anyone.port, userinfo).then(
    (r) => r.status,
    () => 0,
  );
  t.ok(
    constrained === 0 || constrained === 200,
    `the name-constrained userinfo SAN: refused in the handshake or admitted by any-verified (${constrained})`,
  );
  if (constrained === 200)
    t.same(rawHeaderValues(upstream.received.at(-1)!, 'x-client-uri'), [], 'and then not forwarded');
  else t.equal(upstream.received.length, beforeConstrained, 'and then the upstream received nothing');
});
