// Each CRL judges only what its issuer signed: an intermediate's CRL revokes its leaf even with no CRL for the
// root, a root's CRL revokes the intermediate, and a CRL of an unrelated CA (even listing the same serial) rejects no
// one.
import t from 'tap';
import { ConfigError } from '../../src/errors.js';
import { chainPem, makeCa, makeCrl, makeLeaf } from '../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

const REQUEST = 'GET /orders HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
const spiffe = ['URI:spiffe://example.org/ns/prod/sa/orders'];

t.test('CRLs per issuer', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const inter = makeCa(pki.dir, 'Issuing CA', { issuer: pki.ca });
  const unrelated = makeCa(pki.dir, 'Unrelated CA');
  const revokedLeaf = makeLeaf(pki.dir, 'revoked-leaf', inter, { san: spiffe, serial: '7A01' });
  const goodLeaf = makeLeaf(pki.dir, 'good-leaf', inter, { san: spiffe, serial: '7A02' });
  const unrelatedTwin = makeLeaf(pki.dir, 'unrelated-twin', unrelated, { san: spiffe, serial: '7A02' });
  const interCrl = makeCrl(pki.dir, inter, [revokedLeaf]);
  const unrelatedCrl = makeCrl(pki.dir, unrelated, [unrelatedTwin]);
  t.teardown(async () => {
    await upstream.close();
    pki.cleanup();
  });

  t.test('intermediate CRL only, intermediate also loaded as a client CA', async (t) => {
    const proxy = await startTestProxy(
      baseConfig(pki, upstream.url, {
        clientCa: [pki.ca.cert, inter.cert, unrelated.cert],
        crl: [interCrl, unrelatedCrl],
      }),
    );
    t.teardown(() => proxy.close(100));
    const send = (leaf: typeof goodLeaf, withChain: boolean) =>
      rawTlsExchange({
        port: proxy.port,
        ca: pki.ca.certPem,
        cert: withChain ? chainPem(leaf, inter) : leaf.certPem,
        key: leaf.keyPem,
        payload: REQUEST,
        timeoutMs: 1500,
      });

    for (const withChain of [true, false]) {
      const label = withChain ? 'leaf + intermediate sent' : 'leaf only sent';
      const before = upstream.received.length;
      const revoked = await send(revokedLeaf, withChain);
      t.equal(revoked.received, '', `${label}: revoked leaf gets no response`);
      t.equal(upstream.received.length, before, `${label}: upstream saw nothing`);
      const good = await send(goodLeaf, withChain);
      t.match(good.received, /^HTTP\/1\.1 200/, `${label}: non-revoked leaf of the same intermediate admitted`);
    }
    t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }), 2);

    // The unrelated CA's CRL lists serial 7A02 too; it must only judge certificates that CA signed.
    const twin = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: unrelatedTwin.certPem,
      key: unrelatedTwin.keyPem,
      payload: REQUEST,
      timeoutMs: 1500,
    });
    t.equal(twin.received, '', 'the unrelated CA revoked its own 7A02');
    const rootLeaf = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: REQUEST,
      timeoutMs: 1500,
    });
    t.match(rootLeaf.received, /^HTTP\/1\.1 200/, 'a leaf of the root (which has no CRL) is admitted');
  });

  t.test('root CRL revoking the intermediate the client sends', async (t) => {
    const rootCrl = makeCrl(pki.dir, pki.ca, [inter]);
    const proxy = await startTestProxy(baseConfig(pki, upstream.url, { clientCa: [pki.ca.cert], crl: [rootCrl] }));
    t.teardown(() => proxy.close(100));
    const viaInter = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: chainPem(goodLeaf, inter),
      key: goodLeaf.keyPem,
      payload: REQUEST,
      timeoutMs: 1500,
    });
    t.equal(viaInter.received, '', 'leaf under a revoked intermediate is refused');
    t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }), 1);
    const direct = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: REQUEST,
      timeoutMs: 1500,
    });
    t.match(direct.received, /^HTTP\/1\.1 200/, 'a leaf the root signed directly is admitted');
  });

  t.test("an intermediate's CRL without that intermediate in --client-ca is a configuration error", async (t) => {
    const err = await startTestProxy(baseConfig(pki, upstream.url, { clientCa: [pki.ca.cert], crl: [interCrl] })).then(
      async (p) => (await p.close(0), null),
      (e: unknown) => e,
    );
    t.ok(err instanceof ConfigError, 'refused with a ConfigError (exit 78)');
    t.ok(
      (err as ConfigError).problems.some(
        (p) => p.includes(`--crl ${interCrl}`) && p.includes('signed by no --client-ca'),
      ),
      'names the file',
    );
  });
});
