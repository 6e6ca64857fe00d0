// `check` warns when the server certificate cannot serve TLS (an extended key usage without serverAuth, a key usage
// without digitalSignature), and `run` logs the same at start; curl is the witness that such a certificate fails.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { baseConfig, makeTestPki, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { runCli } from '../config/fixtures.js';

interface Report {
  ok: boolean;
  warnings: string[];
}

t.test('server certificate usage', async (t) => {
  const pki = makeTestPki();
  t.teardown(() => pki.cleanup());
  const clientOnly = makeLeaf(pki.dir, 'client-only-server', pki.ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'clientAuth',
  });
  // keyUsage without digitalSignature, made directly with openssl (self-signed: only the usage matters here).
  const kuKey = join(pki.dir, 'ku.key');
  const kuCert = join(pki.dir, 'ku.crt');
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    kuKey,
    '-out',
    kuCert,
    '-subj',
    '/CN=localhost',
    '-days',
    '2',
    '-addext',
    'keyUsage=critical,keyEncipherment',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  const check = (cert: string, key: string): Report => {
    const r = runCli([
      'check',
      '--json',
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      cert,
      '--key',
      key,
      '--client-ca',
      pki.ca.cert,
      '--allow-cn',
      'orders',
      '--allow-insecure-posture',
    ]);
    return JSON.parse(r.stdout) as Report;
  };

  const good = check(pki.server.cert, pki.server.key);
  t.same(
    good.warnings.filter((w) => /key usage/.test(w)),
    [],
    'a serverAuth certificate: no usage warning',
  );

  const bad = check(clientOnly.cert, clientOnly.key);
  t.ok(
    bad.warnings.some((w) =>
      w.includes(`server certificate "${clientOnly.cert}": its extended key usage is clientAuth, without serverAuth`),
    ),
    bad.warnings.join('\n'),
  );
  const ku = check(kuCert, kuKey);
  t.ok(
    ku.warnings.some((w) => /its key usage lacks digitalSignature/.test(w)),
    ku.warnings.join('\n'),
  );

  // The warning is true: curl refuses the clientAuth-only certificate, and run logged why at start.
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { cert: clientOnly.cert, key: clientOnly.key }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
  });
  const curl = await promisify(execFile)(
    'curl',
    [
      '-sS',
      '-o',
      '/dev/null',
      '--cacert',
      pki.ca.cert,
      '--cert',
      pki.client.cert,
      '--key',
      pki.client.key,
      `https://127.0.0.1:${proxy.port}/`,
    ],
    { timeout: 30_000 },
  ).then(
    () => 'ok',
    (err: { stderr?: string }) => String(err.stderr),
  );
  t.match(curl, /unsuitable certificate purpose|certificate verify failed/, 'curl refuses it');
  t.equal(upstream.received.length, 0);
  t.ok(
    proxy
      .logLines()
      .some((l) => l.level === 40 && /server certificate: its extended key usage is clientAuth/.test(String(l.msg))),
    'logged at start',
  );
});
