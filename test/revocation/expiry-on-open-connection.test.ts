// A certificate that expires while its keep-alive connection stays open is refused (403) on the next request:
// every request is judged under the rules in force at that moment, not only at the handshake.
import https from 'node:https';
import t from 'tap';
import { makeLeaf } from '../helpers/pki.js';
import { baseConfig, httpsRequest, makeTestPki, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';

const asn1 = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

t.test('expiry during an open connection', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(async () => {
    agent.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const expiresAt = Date.now() + 4000;
  const shortLived = makeLeaf(pki.dir, 'short', pki.ca, {
    san: ['URI:spiffe://example.org/ns/prod/sa/short'],
    notBefore: asn1(Date.now() - 60_000),
    notAfter: asn1(expiresAt),
  });
  const caller = { port: proxy.port, ca: pki.ca.certPem, cert: shortLived.certPem, key: shortLived.keyPem, path: '/orders', agent };
  t.equal((await httpsRequest(caller)).status, 200, 'admitted while valid');
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1500));
  t.equal((await httpsRequest(caller)).status, 403, 'refused on the same connection once expired');
  t.equal(upstream.received.length, 1);
});
