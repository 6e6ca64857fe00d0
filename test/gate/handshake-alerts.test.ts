// A caller refused in the handshake learns why from a TLS alert (openssl s_client and curl as oracles), and the gate
// still labels every other refusal itself (the verdict is handed to it during the handshake, not left to Node).
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { makeChain } from '../helpers/hostile-pki.js';
import { runCollect as run } from '../helpers/run-collect.js';
import { baseConfig, metricValue, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';

const REQUEST = 'GET /alerts HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

t.test('TLS alerts and reasons', async (t) => {
  const dir = makeTmpDir('mtls-alerts-');
  const root = makeCa(dir, 'Alerts Root CA');
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const rogue = makeChain(dir, 'rogue', { intermediates: 0 });
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig({ dir, ca: root, server, client: server, cleanup: () => removeDir(dir) }, upstream.url),
  );
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    removeDir(dir);
  });
  const sClient = (extra: string[]) =>
    run(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${proxy.port}`,
        '-servername',
        'localhost',
        '-ign_eof',
        '-CAfile',
        root.cert,
        ...extra,
      ],
      REQUEST,
    );

  t.test('no certificate, TLS 1.3: certificate_required', async (t) => {
    const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'no_certificate' });
    const { out } = await sClient(['-tls1_3']);
    t.match(out, /alert certificate required/, 'openssl s_client reports the alert');
    const curl = await run(
      'curl',
      [
        '-sS',
        '--http1.1',
        '--tlsv1.3',
        '--cacert',
        root.cert,
        '--resolve',
        `localhost:${proxy.port}:127.0.0.1`,
        `https://localhost:${proxy.port}/alerts`,
      ],
      '',
    );
    t.match(curl.out, /alert certificate required/, `curl reports the alert (${curl.out.trim()})`);
    t.equal(
      (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'no_certificate' })) - before,
      2,
      'both counted as no_certificate',
    );
    t.equal(upstream.received.length, 0, 'upstream received nothing');
  });

  t.test('no certificate, TLS 1.2: handshake_failure (TLS 1.2 has no certificate_required)', async (t) => {
    const { out } = await sClient(['-tls1_2']);
    t.match(out, /alert handshake failure/, 'openssl s_client reports the alert');
    const curl = await run(
      'curl',
      [
        '-sS',
        '--http1.1',
        '--tls-max',
        '1.2',
        '--cacert',
        root.cert,
        '--resolve',
        `localhost:${proxy.port}:127.0.0.1`,
        `https://localhost:${proxy.port}/alerts`,
      ],
      '',
    );
    t.match(curl.out, /alert handshake failure/, `curl reports the alert (${curl.out.trim()})`);
    t.equal(upstream.received.length, 0, 'upstream received nothing');
  });

  t.test("an untrusted certificate is judged by the gate, with OpenSSL's code as the detail", async (t) => {
    const logged = proxy.logLines().length;
    for (const version of ['-tls1_2', '-tls1_3']) {
      const { out } = await sClient([version, '-cert', rogue.leaf.cert, '-key', rogue.leaf.key]);
      t.notMatch(out, /HTTP\/1\.1/, `${version}: no HTTP response`);
    }
    const lines = proxy
      .logLines()
      .slice(logged)
      .filter((l) => l.reason === 'unknown_ca');
    t.equal(lines.length, 2, 'two refusals labelled unknown_ca');
    t.ok(
      lines.every(
        (l) =>
          l.msg === 'tls connection rejected' &&
          /UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(l.detail)),
      ),
      'by the gate, with the verification code',
    );
    t.equal(upstream.received.length, 0, 'upstream received nothing');
  });
});
