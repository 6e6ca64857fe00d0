// Each refusal the gate makes is counted and logged under a truthful reason label, and the upstream receives nothing.
import { runCollect } from '../helpers/run-collect.js';
import net from 'node:net';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { makeCert, makeChain, makeDuplicateSanLeaf, pemOf } from '../helpers/hostile-pki.js';
import {
  baseConfig,
  metricValue,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

/**
 * openssl s_client sending one request (asynchronously: the proxy runs in this process); stdout and stderr together.
 */
async function sClientRequest(args: string[]): Promise<string> {
  return (await runCollect('openssl', ['s_client', '-ign_eof', ...args], REQUEST)).out;
}

const REQUEST = 'GET /secret HTTP/1.1\r\nHost: localhost\r\n\r\n';
const URI = 'subjectAltName = URI:spiffe://example.org/ns/prod/sa/labels';

t.test('reason labels', async (t) => {
  const dir = makeTmpDir('mtls-labels-');
  const root = makeCa(dir, 'Labels Root CA');
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const upstream = await startRecordingUpstream();
  const pki = { dir, ca: root, server, client: server, cleanup: () => removeDir(dir) };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { handshakeTimeoutMs: 800 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  const leafUnder = (issuer: CertFiles, name: string, extra: string[] = []) =>
    makeCert(dir, name, { issuer, extraExtLines: [URI, ...extra] });
  const constrained = makeCert(dir, 'constrained-int', {
    ca: true,
    issuer: root,
    extraExtLines: ['nameConstraints = critical,permitted;DNS:good.example'],
  });
  const noCertSign = makeCert(dir, 'no-certsign-int', {
    issuer: root,
    extLines: [
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,cRLSign,digitalSignature',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ],
  });
  const deep = makeChain(dir, 'deep', { root, intermediates: 19 });
  const bigLeaf = makeCert(dir, 'big-leaf', {
    issuer: root,
    extraExtLines: [
      URI,
      `1.3.6.1.4.1.55555.2 = DER:${Buffer.concat([Buffer.from([0x04, 0x82, 0xfe, 0x00]), Buffer.alloc(0xfe00, 0x42)]).toString('hex')}`,
    ],
  });
  const pair = (leaf: CertFiles, ...chain: CertFiles[]) => ({ cert: pemOf(leaf, ...chain), key: leaf.keyPem });
  const cases: Array<{ name: string; reason: string; detail: RegExp; client: { cert: string; key: string } }> = [
    {
      name: 'name-constraint violation',
      reason: 'invalid_chain',
      detail: /name constraints/,
      client: pair(
        makeCert(dir, 'nc-leaf', {
          issuer: constrained,
          extraExtLines: ['subjectAltName = DNS:evil.example, URI:spiffe://example.org/ns/prod/sa/labels'],
        }),
        constrained,
      ),
    },
    {
      name: 'CA without keyCertSign',
      reason: 'invalid_chain',
      detail: /UNSPECIFIED.*keyCertSign/,
      client: pair(leafUnder(noCertSign, 'ku-leaf'), noCertSign),
    },
    {
      name: 'unknown critical extension',
      reason: 'invalid_chain',
      detail: /critical extension 1\.3\.6\.1\.4\.1\.55555\.7/,
      client: pair(leafUnder(root, 'crit-leaf', ['1.3.6.1.4.1.55555.7 = critical,ASN1:UTF8String:hello'])),
    },
    {
      name: 'SHA-1 signature',
      reason: 'weak_signature',
      detail: /sha1/i,
      client: pair(makeCert(dir, 'sha1-leaf', { issuer: root, digest: 'sha1', extraExtLines: [URI] })),
    },
    {
      name: 'duplicate subjectAltName extension',
      reason: 'bad_certificate',
      detail: /2\.5\.29\.17 appears twice/,
      client: pair(makeDuplicateSanLeaf(dir, 'dup-san', root)),
    },
    {
      name: 'valid 21-deep chain',
      reason: 'chain_too_long',
      detail: /more than 10/,
      client: { cert: deep.sentPem, key: deep.leaf.keyPem },
    },
    { name: '~64 KB client certificate', reason: 'bad_certificate', detail: /bytes \(at most/, client: pair(bigLeaf) },
  ];

  for (const c of cases) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      t.test(`${c.name} (${version}) is ${c.reason}`, async (t) => {
        const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: c.reason });
        const logged = proxy.logLines().length;
        const result = await rawTlsExchange({
          port: proxy.port,
          ca: root.certPem,
          ...c.client,
          payload: REQUEST,
          maxVersion: version,
          minVersion: version,
          timeoutMs: 10_000,
        });
        t.equal(result.received, '', 'no HTTP response');
        t.equal(upstream.received.length, 0, 'upstream received nothing');
        t.equal(
          (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: c.reason })) - before,
          1,
          `counted as ${c.reason}`,
        );
        const line = proxy
          .logLines()
          .slice(logged)
          .find((l) => typeof l.reason === 'string');
        t.match(line, { reason: c.reason, detail: c.detail }, 'logged with the reason and a detail that agrees');
      });
    }
  }

  t.test(
    'an RSA-1024 client key is weak_key (openssl s_client: Node 24 refuses to use such a key as a client)',
    async (t) => {
      const leaf = makeCert(dir, 'rsa1024-leaf', { issuer: root, keyType: 'rsa', rsaBits: 1024, extraExtLines: [URI] });
      for (const version of ['-tls1_2', '-tls1_3']) {
        const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'weak_key' });
        const logged = proxy.logLines().length;
        const out = await sClientRequest([
          '-connect',
          `127.0.0.1:${proxy.port}`,
          '-servername',
          'localhost',
          version,
          '-cipher',
          'DEFAULT@SECLEVEL=0',
          '-CAfile',
          root.cert,
          '-cert',
          leaf.cert,
          '-key',
          leaf.key,
        ]);
        t.notMatch(out, /HTTP\/1\.1/, `${version}: no HTTP response`);
        t.equal(upstream.received.length, 0, `${version}: upstream received nothing`);
        t.equal(
          (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'weak_key' })) - before,
          1,
          `${version}: counted as weak_key`,
        );
        t.match(
          proxy
            .logLines()
            .slice(logged)
            .find((l) => typeof l.reason === 'string'),
          { reason: 'weak_key', detail: /1024 bits/ },
        );
      }
    },
  );

  t.test('a client that never finishes its handshake is timeout', async (t) => {
    const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'timeout' });
    await new Promise<void>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    t.equal(
      (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'timeout' })) - before,
      1,
      'counted as timeout',
    );
    t.equal(upstream.received.length, 0, 'upstream received nothing');
  });

  t.test('no certificate: the detail agrees with the reason', async (t) => {
    const logged = proxy.logLines().length;
    await rawTlsExchange({ port: proxy.port, ca: root.certPem, payload: REQUEST });
    const line = proxy
      .logLines()
      .slice(logged)
      .find((l) => l.reason === 'no_certificate');
    t.ok(line, 'logged as no_certificate');
    t.notMatch(String(line?.detail), /ISSUER/, `detail does not talk about an issuer (${String(line?.detail)})`);
  });
});
