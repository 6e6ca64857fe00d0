// Every TLS-level rejection the README lists closes the connection before a request is read, is counted by reason,
// and the upstream receives nothing.
import t from 'tap';
import { makeCa, makeLeaf, type CertFiles } from '../helpers/pki.js';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const REQUEST = 'GET /secret HTTP/1.1\r\nHost: localhost\r\n\r\n';

t.test('TLS rejections', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);

  const rogueCa = makeCa(pki.dir, 'Rogue CA');
  const spiffe = ['URI:spiffe://example.org/ns/prod/sa/orders'];
  const cases: Array<{ name: string; reason: string; cert?: CertFiles; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }> = [
    { name: 'no client certificate', reason: 'no_certificate' },
    { name: 'unknown CA', reason: 'unknown_ca', cert: makeLeaf(pki.dir, 'rogue', rogueCa, { san: spiffe }) },
    {
      name: 'expired',
      reason: 'expired',
      cert: makeLeaf(pki.dir, 'expired', pki.ca, {
        san: spiffe,
        notBefore: '20200101000000Z',
        notAfter: '20210101000000Z',
      }),
    },
    {
      name: 'not yet valid',
      reason: 'not_yet_valid',
      cert: makeLeaf(pki.dir, 'future', pki.ca, {
        san: spiffe,
        notBefore: '20400101000000Z',
        notAfter: '20410101000000Z',
      }),
    },
    {
      name: 'serverAuth-only key usage',
      reason: 'bad_key_usage',
      cert: makeLeaf(pki.dir, 'wrong-eku', pki.ca, { san: spiffe, eku: 'serverAuth' }),
    },
  ];

  for (const c of cases) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      t.test(`${c.name} (${version})`, async (t) => {
        const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: c.reason });
        const result = await rawTlsExchange({
          port: proxy.port,
          ca: pki.ca.certPem,
          cert: c.cert?.certPem,
          key: c.cert?.keyPem,
          payload: REQUEST,
          maxVersion: version,
          minVersion: version,
        });
        t.equal(result.received, '', 'no HTTP response: the connection was closed');
        t.equal(upstream.received.length, 0, 'upstream received nothing');
        const after = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: c.reason });
        t.equal(after - before, 1, `counted as ${c.reason}`);
      });
    }
  }

  t.test('the rejection is logged with reason and peer address', async (t) => {
    const lines = proxy.logLines().filter((l) => l.msg === 'tls connection rejected');
    t.ok(lines.length >= cases.length);
    t.ok(
      lines.every(
        (l) => typeof l.reason === 'string' && typeof l.peer === 'string' && String(l.peer).startsWith('127.0.0.1:'),
      ),
    );
    t.notOk(JSON.stringify(lines).includes('BEGIN'), 'no certificate material in the log');
  });
});

t.test('TLS below --min-tls-version is refused in the handshake and counted as protocol', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { minTlsVersion: 'TLSv1.3' });
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: REQUEST,
    maxVersion: 'TLSv1.2',
  });
  t.equal(result.handshake, false, 'handshake failed');
  t.equal(result.received, '');
  t.equal(upstream.received.length, 0);
  // The server learns of the failure asynchronously: wait for the count, then check it exactly.
  const counted = (): Promise<number> =>
    metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'protocol' });
  await waitFor(async () => (await counted()) >= 1, { timeoutMs: 10_000, what: 'the protocol failure counted' });
  t.equal(await counted(), 1);
});
