// Two trusted CAs each issue serial 0x1000 to CN=alice: serial rules are issuer-scoped, every rule can be narrowed to
// an issuer, and the upstream is told which CA issued the caller (X-Client-Issuer, compared with openssl's own view).
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../src/errors.js';
import { CLI, runCli } from '../config/fixtures.js';
import {
  baseConfig,
  httpsRequest,
  rawHeaderValues,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import { chainPem, makeCa, makeLeaf, makeTmpDir, openssl, removeDir, type CertFiles } from '../helpers/pki.js';

const dir = makeTmpDir('mtls-issuer-');
t.teardown(() => removeDir(dir));
const caOne = makeCa(dir, 'ca-one', { subject: '/O=Acme/CN=CA One' });
const caTwo = makeCa(dir, 'ca-two', { subject: '/O=Acme/CN=CA Two' });
const server = makeLeaf(dir, 'server', caOne, {
  subject: '/CN=localhost',
  san: ['DNS:localhost', 'IP:127.0.0.1'],
  eku: 'serverAuth',
});
const aliceOne = makeLeaf(dir, 'alice-one', caOne, { subject: '/CN=alice', serial: '1000' });
const aliceTwo = makeLeaf(dir, 'alice-two', caTwo, { subject: '/CN=alice', serial: '1000' });
const bundle = join(dir, 'trusted.pem');
writeFileSync(bundle, chainPem(caOne, caTwo));
const pki: TestPki = { dir, ca: caOne, server, client: aliceOne, cleanup: () => undefined };

const opensslIssuer = (c: CertFiles): string =>
  openssl(['x509', '-noout', '-issuer', '-nameopt', 'RFC2253', '-in', c.cert])
    .trim()
    .replace(/^issuer=/, '');
const opensslSerial = (c: CertFiles): string =>
  openssl(['x509', '-noout', '-serial', '-in', c.cert])
    .trim()
    .replace(/^serial=/, '');
const noAllow = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };

t.test('the PKI really collides: same serial and subject, different issuers (openssl)', async (t) => {
  t.equal(opensslSerial(aliceOne), '1000');
  t.equal(opensslSerial(aliceTwo), '1000');
  t.equal(opensslIssuer(aliceOne), 'CN=CA One,O=Acme');
  t.equal(opensslIssuer(aliceTwo), 'CN=CA Two,O=Acme');
});

t.test('a bare --allow-serial with two trusted CA names is refused, naming the form to write', async (t) => {
  const upstream = await startRecordingUpstream();
  t.teardown(() => upstream.close());
  const config = baseConfig(pki, upstream.url, { clientCa: [bundle], allow: { ...noAllow, serial: ['10:00'] } });
  const err = await startTestProxy(config).then(
    (p) => p.close(0).then(() => null),
    (e: unknown) => e,
  );
  t.ok(err instanceof ConfigError, 'refused as a configuration error');
  const text = (err as ConfigError).problems.join('\n');
  t.match(text, /--allow-serial "10:00": serial numbers are unique only per issuer/);
  t.match(text, /--allow-serial "issuer=CN=CA One,O=Acme;10:00"/, 'gives the form for CA One');
  t.match(text, /--allow-serial "issuer=CN=CA Two,O=Acme;10:00"/, 'gives the form for CA Two');
});

t.test(
  'run exits 78 for a bare serial under two CAs; check --json shows the scoped rule',
  { skip: existsSync(CLI) ? false : 'dist/main.js is not built' },
  async (t) => {
    const common = [
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      'off',
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--client-ca',
      caOne.cert,
      '--client-ca',
      caTwo.cert,
      '--allow-insecure-posture',
    ];
    const bare = runCli(['run', ...common, '--allow-serial', '1000']);
    t.equal(bare.status, 78, bare.stderr);
    t.match(bare.stderr, /issuer=CN=CA One,O=Acme;1000/);
    const scoped = runCli(['check', '--json', ...common, '--allow-serial', 'issuer=CN=CA Two,O=Acme;1000']);
    t.equal(scoped.status, 0, scoped.status === 0 ? 'check passes' : scoped.stdout);
    const report = JSON.parse(scoped.stdout) as {
      policy: string[];
      certificates: { role: string; subject: string; issuer: string }[];
    };
    t.match(report.policy.join('\n'), 'serial=1000,issuer=CN=CA Two,O=Acme');
    t.same(
      report.certificates.filter((c) => c.role === 'client-ca').map((c) => c.subject),
      ['CN=CA One,O=Acme', 'CN=CA Two,O=Acme'],
    );
  },
);

t.test('issuer-scoped flag and policy rules tell the two alices apart over real TLS', async (t) => {
  const upstream = await startRecordingUpstream();
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    ['routes:', '  - path: /two', '    allow:', '      - { cn: alice, issuer: "CN=CA Two, O=Acme" }', ''].join('\n'),
  );
  const config = baseConfig(pki, upstream.url, {
    clientCa: [caOne.cert, caTwo.cert],
    policy,
    allow: { ...noAllow, serial: ['issuer=CN=CA One,O=Acme;1000'] },
  });
  const proxy = await startTestProxy(config);
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
  });
  const call = (client: CertFiles, path: string) =>
    httpsRequest({
      port: proxy.port,
      ca: caOne.certPem,
      cert: chainPem(client),
      key: client.keyPem,
      path,
      headers: { 'X-Client-Issuer': 'CN=forged', x_client_issuer: 'CN=forged too' },
    });

  const before = upstream.received.length;
  t.equal((await call(aliceTwo, '/')).status, 403, 'CA Two alice is not admitted by the CA One serial rule');
  t.equal(upstream.received.length, before, 'the upstream received nothing');
  t.equal((await call(aliceOne, '/two')).status, 403, 'CA One alice is not admitted by the CA Two cn rule');
  t.equal(upstream.received.length, before, 'the upstream received nothing');

  t.equal((await call(aliceOne, '/')).status, 200, 'CA One alice admitted by the serial rule');
  const one = upstream.received.at(-1);
  t.equal((await call(aliceTwo, '/two')).status, 200, 'CA Two alice admitted by the policy rule');
  const two = upstream.received.at(-1);
  t.equal(upstream.received.length, before + 2);

  if (!one || !two) return;
  t.same(
    rawHeaderValues(one, 'x-client-issuer'),
    [opensslIssuer(aliceOne)],
    'one X-Client-Issuer, as openssl prints it (forged ones stripped)',
  );
  t.same(
    rawHeaderValues(two, 'x-client-issuer'),
    [opensslIssuer(aliceTwo)],
    'one X-Client-Issuer, as openssl prints it (forged ones stripped)',
  );
  t.same(rawHeaderValues(one, 'x_client_issuer'), [], 'the underscore spelling is stripped');
  t.not(one.headers['x-client-issuer'], two.headers['x-client-issuer'], 'the upstream can tell the callers apart');
  t.equal(one.headers['x-client-serial'], two.headers['x-client-serial'], 'while serial alone cannot');

  const access = proxy.logLines().filter((l) => l['msg'] === 'access' && l['status'] === 200);
  t.same(
    access.map((l) => [l['issuer'], l['rule']]),
    [
      ['CN=CA One,O=Acme', 'serial=1000,issuer=CN=CA One,O=Acme'],
      ['CN=CA Two,O=Acme', 'cn=alice,issuer=CN=CA Two, O=Acme'],
    ],
    'the access log names the issuer and the scoped rule',
  );
});

t.test(
  'with one trusted CA, a bare serial means that CA: a leaf of a client-sent intermediate is not admitted',
  async (t) => {
    const inter = makeCa(dir, 'inter', { subject: '/O=Acme/CN=Team Intermediate', issuer: caOne });
    const viaInter = makeLeaf(dir, 'alice-inter', inter, { subject: '/CN=alice', serial: '1000' });
    const upstream = await startRecordingUpstream();
    const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: { ...noAllow, serial: ['1000'] } }));
    t.teardown(async () => {
      await proxy.close(0);
      await upstream.close();
    });
    const direct = await httpsRequest({
      port: proxy.port,
      ca: caOne.certPem,
      cert: aliceOne.certPem,
      key: aliceOne.keyPem,
    });
    t.equal(direct.status, 200, 'serial 1000 of the trusted CA is admitted');
    const before = upstream.received.length;
    const chained = await httpsRequest({
      port: proxy.port,
      ca: caOne.certPem,
      cert: chainPem(viaInter, inter),
      key: viaInter.keyPem,
    });
    t.equal(chained.status, 403, 'serial 1000 of the intermediate is another certificate');
    t.equal(upstream.received.length, before, 'the upstream received nothing');
  },
);

t.test(
  'a reload that adds a second CA name under a bare serial rule is refused, and the rule keeps its meaning',
  async (t) => {
    const caFile = join(dir, 'rotating-ca.pem');
    copyFileSync(caOne.cert, caFile);
    const upstream = await startRecordingUpstream();
    const proxy = await startTestProxy(
      baseConfig(pki, upstream.url, { clientCa: [caFile], allow: { ...noAllow, serial: ['1000'] } }),
    );
    t.teardown(async () => {
      await proxy.close(0);
      await upstream.close();
    });
    writeFileSync(caFile, chainPem(caOne, caTwo));
    t.equal(proxy.reload('signal'), 'failure', 'refused: the bare serial would be ambiguous');
    const refused = proxy
      .logLines()
      .filter((l) => l['msg'] === 'reload refused; the current certificates and policy keep serving')
      .at(-1);
    t.match(
      String((refused?.['problems'] as string[] | undefined)?.join()),
      /issuer=CN=CA Two,O=Acme;1000/,
      'the log gives the form to write',
    );
    t.equal(
      (await httpsRequest({ port: proxy.port, ca: caOne.certPem, cert: aliceOne.certPem, key: aliceOne.keyPem }))
        .status,
      200,
      'CA One alice still admitted',
    );
    const before = upstream.received.length;
    const two = await httpsRequest({
      port: proxy.port,
      ca: caOne.certPem,
      cert: aliceTwo.certPem,
      key: aliceTwo.keyPem,
    }).then(
      (r) => r.status,
      () => 0,
    );
    t.equal(two, 0, 'CA Two is not trusted: its alice is refused in the handshake');
    t.equal(upstream.received.length, before, 'the upstream received nothing');
  },
);
