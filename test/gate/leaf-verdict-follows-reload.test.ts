// A full handshake whose leaf a loaded CA issued is judged on that leaf alone (read from the TLS session, never from
// getPeerCertificate) and its verdict cached by the leaf; a CRL reload that revokes the leaf refuses its next
// handshake, with nothing reaching the upstream. A leaf under an intermediate is still judged on the chain it
// presented.
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import { chainPem, makeCa, makeCrl, makeLeaf } from '../helpers/pki.js';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

const REQUEST = 'GET /orders HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

t.test('a leaf issued by a loaded CA: judged on the leaf, and again after a reload', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { crl: [] });
  const inter = makeCa(pki.dir, 'Issuing CA', { issuer: pki.ca });
  const chained = makeLeaf(pki.dir, 'chained-leaf', inter, { san: ['URI:spiffe://example.org/ns/prod/sa/orders'] });
  // Which handshakes read the presented chain: the gate's listener runs after this one (both prepended).
  const chainReads: number[] = [];
  proxy.proxy.server.prependListener('secureConnection', (socket: TLSSocket) => {
    const read = socket.getPeerCertificate.bind(socket);
    let calls = 0;
    socket.getPeerCertificate = ((detailed?: boolean) => {
      calls += 1;
      return read(detailed as true);
    }) as TLSSocket['getPeerCertificate'];
    setImmediate(() => chainReads.push(calls));
  });
  const send = (cert: string, key: string, version: 'TLSv1.2' | 'TLSv1.3') =>
    rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert,
      key,
      payload: REQUEST,
      maxVersion: version,
      minVersion: version,
      timeoutMs: 3000,
    });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (let i = 0; i < 2; i += 1) {
      const r = await send(pki.client.certPem, pki.client.keyPem, version);
      t.match(r.received, /^HTTP\/1\.1 200/, `${version}: the leaf of the loaded root admitted (${i + 1})`);
    }
    t.match(
      (await send(chainPem(chained, inter), chained.keyPem, version)).received,
      /^HTTP\/1\.1 200/,
      `${version}: leaf + intermediate admitted`,
    );
  }
  t.same(chainReads, [0, 0, 1, 0, 0, 1], 'only the leaf under an intermediate had its presented chain read');
  t.equal(upstream.received.length, 6, 'the upstream saw the six requests');

  proxy.config.crl.push(makeCrl(pki.dir, pki.ca, [pki.client]));
  t.equal(proxy.reload('signal'), 'success', 'reloaded with the leaf revoked');
  const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' });
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const r = await send(pki.client.certPem, pki.client.keyPem, version);
    t.equal(r.received, '', `${version}: the revoked leaf is refused`);
  }
  t.equal(upstream.received.length, 6, 'the upstream received nothing more');
  t.equal(
    (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' })) - before,
    2,
    'both counted as revoked',
  );
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    t.match(
      (await send(chainPem(chained, inter), chained.keyPem, version)).received,
      /^HTTP\/1\.1 200/,
      `${version}: the other caller is still admitted`,
    );
  }
});
