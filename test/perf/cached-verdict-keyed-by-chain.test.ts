// The per-chain verdict cache never lets one chain ride on another's verdict: the same leaf sent with a reissued,
// revoked copy of its intermediate (same name and key, other serial) is refused right after the clean chain was
// admitted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chainPem, makeCa, makeCrl, makeLeaf, openssl, type CertFiles } from '../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

const REQUEST = 'GET /orders HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

/** A second certificate for `ca`'s own key and name, signed by `root` with another serial (a reissue). */
function reissue(dir: string, ca: CertFiles, root: CertFiles, serial: string): CertFiles {
  const csr = join(dir, 'reissue.csr');
  const ext = join(dir, 'reissue.ext');
  const cert = join(dir, 'reissued-intermediate.crt');
  const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'compat', '-in', ca.cert])
    .trim()
    .replace(/^subject=\s*/, '');
  writeFileSync(
    ext,
    'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n',
  );
  openssl(['req', '-new', '-key', ca.key, '-subj', subject, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    root.cert,
    '-CAkey',
    root.key,
    '-set_serial',
    serial,
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { ...ca, cert, certPem: openssl(['x509', '-in', cert]), name: `${ca.name} (reissued)` };
}

t.test('a different intermediate for the same leaf is judged afresh', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  t.teardown(async () => {
    await upstream.close();
    pki.cleanup();
  });
  const inter = makeCa(pki.dir, 'Issuing CA', { issuer: pki.ca });
  const reissued = reissue(pki.dir, inter, pki.ca, '0x0B2B2B');
  const leaf = makeLeaf(pki.dir, 'orders-leaf', inter, { san: ['URI:spiffe://example.org/ns/prod/sa/orders'] });
  // openssl's own view: both chains verify against the root alone, so OpenSSL admits either at the handshake.
  for (const i of [inter, reissued]) {
    writeFileSync(join(pki.dir, 'untrusted.pem'), i.certPem);
    t.match(
      openssl(['verify', '-CAfile', pki.ca.cert, '-untrusted', join(pki.dir, 'untrusted.pem'), leaf.cert]),
      /: OK/,
      `openssl verifies the leaf via ${i.name}`,
    );
  }
  const crl = makeCrl(pki.dir, pki.ca, [reissued]);
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { crl: [crl] }));
  t.teardown(() => proxy.close(100));
  const send = (via: CertFiles) =>
    rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: chainPem(leaf, via),
      key: leaf.keyPem,
      payload: REQUEST,
      timeoutMs: 1500,
    });

  t.match((await send(inter)).received, /^HTTP\/1\.1 200/, 'leaf + clean intermediate admitted');
  t.match((await send(inter)).received, /^HTTP\/1\.1 200/, 'admitted again (the cached verdict)');
  const before = upstream.received.length;
  const revoked = await send(reissued);
  t.equal(revoked.received, '', 'leaf + revoked reissue of its intermediate refused');
  t.equal(upstream.received.length, before, 'upstream saw nothing of it');
  t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }), 1);
  t.match((await send(inter)).received, /^HTTP\/1\.1 200/, 'the clean chain is still admitted');
});
