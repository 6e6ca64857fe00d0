// `inspect` applies what `run` applies before any rule: CRLs, the chain to the configured CAs, validity; and its human
// output cannot be rewritten by control characters in a certificate. Each prediction is compared with the running
// proxy.
import { existsSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { chainPem, makeCa, makeCrl, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { spawnChild, startUpstream, stopChild, waitForListening } from '../containment/helpers/sidecar.js';

interface InspectJson {
  validity: { status: string };
  authorization: {
    handshake: { admitted: boolean; reason: string | null; chain: string[] };
    routes: { route: string; admitted: boolean }[];
  };
}

/** The status the running proxy answers, or 0 when the connection is refused before an answer. */
function get(port: number, path: string, ca: CertFiles, certPem: string, keyPem: string): Promise<number> {
  return new Promise((ok) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ca: ca.certPem,
        cert: certPem,
        key: keyPem,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => ok(0));
    req.end();
  });
}

t.test('inspect judges like run', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-inspect-trust-');
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    removeDir(dir);
  });
  const root = makeCa(dir, 'root', { subject: '/O=Acme/CN=Root' });
  const inter = makeCa(dir, 'inter', { subject: '/O=Acme/CN=Team Intermediate', issuer: root });
  const other = makeCa(dir, 'other', { subject: '/CN=Other' });
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const alice = makeLeaf(dir, 'alice', root, { subject: '/CN=alice' });
  const revoked = makeLeaf(dir, 'revoked', root, { subject: '/CN=alice' });
  const chained = makeLeaf(dir, 'chained', inter, { subject: '/CN=alice' });
  const outsider = makeLeaf(dir, 'outsider', other, { subject: '/CN=alice' });
  const hostile = makeLeaf(dir, 'hostile', root, { subject: '/CN=Zoë\r\nrouted: ADMITTED\x1b[2K\u202eevil' });
  const crl = makeCrl(dir, root, [revoked]);
  const chainedFile = join(dir, 'chained-with-intermediate.pem');
  writeFileSync(chainedFile, chainPem(chained, inter));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'routes:\n  - path: /admin\n    allow:\n      - cn: alice\ndefault:\n  allow: any-verified\n');
  const config = [
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    'off',
    '--upstream',
    upstream.url,
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    root.cert,
    '--crl',
    crl,
    '--policy',
    policy,
    '--allow-insecure-posture',
  ];

  const inspect = (file: string): InspectJson => {
    const r = runCli(['inspect', '--json', file, ...config]);
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as InspectJson;
  };
  const cases: {
    name: string;
    file: string;
    certPem: string;
    keyPem: string;
    admitted: boolean;
    reason: string | null;
  }[] = [
    {
      name: 'a valid leaf of the root',
      file: alice.cert,
      certPem: alice.certPem,
      keyPem: alice.keyPem,
      admitted: true,
      reason: null,
    },
    {
      name: 'a leaf the CRL revokes',
      file: revoked.cert,
      certPem: revoked.certPem,
      keyPem: revoked.keyPem,
      admitted: false,
      reason: 'revoked',
    },
    {
      name: 'a leaf sent with its intermediate',
      file: chainedFile,
      certPem: chainPem(chained, inter),
      keyPem: chained.keyPem,
      admitted: true,
      reason: null,
    },
    {
      name: 'a leaf of an untrusted CA',
      file: outsider.cert,
      certPem: outsider.certPem,
      keyPem: outsider.keyPem,
      admitted: false,
      reason: 'unknown_ca',
    },
  ];
  const predictions = cases.map((c) => ({ c, report: inspect(c.file) }));

  const proxy = spawnChild(process.execPath, [CLI, 'run', ...config], dir);
  t.teardown(() => stopChild(proxy));
  const port = await waitForListening(proxy);

  for (const { c, report } of predictions) {
    const hs = report.authorization.handshake;
    t.equal(hs.admitted, c.admitted, `${c.name}: inspect says the handshake ${c.admitted ? 'admits' : 'refuses'} it`);
    t.equal(hs.reason, c.reason, `${c.name}: reason ${String(c.reason)}`);
    const before = upstream.received.length;
    for (const route of report.authorization.routes) {
      const path = route.route.startsWith('routes[0]') ? '/admin' : '/elsewhere';
      const status = await get(port, path, root, c.certPem, c.keyPem);
      t.equal(
        status === 200,
        route.admitted,
        `${c.name}: ${route.route} predicted ${route.admitted ? 'ADMITTED' : 'refused'}, run answered ${status || 'with no answer'}`,
      );
    }
    if (!c.admitted) t.equal(upstream.received.length, before, `${c.name}: the upstream received nothing`);
  }
  t.equal(predictions[1]?.report.validity.status, 'revoked', 'a revoked certificate is not shown as valid');
  t.equal(
    predictions[2]?.report.authorization.handshake.chain.length,
    3,
    'the chain through the sent intermediate is built to the root',
  );

  const human = runCli(['inspect', revoked.cert, ...config]);
  t.equal(human.status, 0, human.stderr);
  t.match(human.stdout, /not after: .*REVOKED/);
  t.match(human.stdout, /TLS handshake: REFUSED \(revoked/);
  t.notMatch(human.stdout, /ADMITTED/, 'no route is shown ADMITTED for a revoked certificate');

  t.test('control characters in a certificate are escaped in the human output', async (t) => {
    const out = runCli(['inspect', hostile.cert, ...config]);
    t.equal(out.status, 0, out.stderr);
    t.notMatch(out.stdout, /[\r\x1b\u202e]/, 'no raw CR, ESC or RIGHT-TO-LEFT OVERRIDE reaches the terminal');
    const cnLine = out.stdout.split('\n').find((l) => l.startsWith('CN:')) ?? '';
    t.equal(
      cnLine,
      'CN:            Zoë\\0D\\0Arouted: ADMITTED\\1B[2K\\E2\\80\\AEevil',
      'one line, controls as \\XX, UTF-8 text readable',
    );
    t.notOk(
      out.stdout.split('\n').some((l) => l.startsWith('routed: ')),
      'the CN cannot start a line of its own',
    );
  });
});
