// A certificate that expires while its keep-alive connection stays open is refused (403) on the next request:
// every request is judged under the rules in force at that moment, not only at the handshake.
import https from 'node:https';
import t from 'tap';
import { chainPem, makeCa, makeLeaf } from '../helpers/pki.js';
import { httpsRequest, startGateStack } from '../helpers/gate-harness.js';

const asn1 = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

t.test('expiry during an open connection', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const expiresAt = Date.now() + 4000;
  const shortLived = makeLeaf(pki.dir, 'short', pki.ca, {
    san: ['URI:spiffe://example.org/ns/prod/sa/short'],
    notBefore: asn1(Date.now() - 60_000),
    notAfter: asn1(expiresAt),
  });
  const caller = {
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: shortLived.certPem,
    key: shortLived.keyPem,
    path: '/orders',
    agent,
  };
  t.equal((await httpsRequest(caller)).status, 200, 'admitted while valid');
  // The awaited event is the wall clock passing notAfter (plus a margin past its whole second): nothing to poll.
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1500));
  t.equal((await httpsRequest(caller)).status, 403, 'refused on the same connection once expired');
  t.equal(upstream.received.length, 1);
});

t.test('an intermediate that expires during an open connection: refused on the next request too', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const expiresAt = Date.now() + 5000;
  const intermediate = makeCa(pki.dir, 'Short Intermediate', {
    issuer: pki.ca,
    notBefore: asn1(Date.now() - 60_000),
    notAfter: asn1(expiresAt),
  });
  const leaf = makeLeaf(pki.dir, 'under-short', intermediate, {
    san: ['URI:spiffe://example.org/ns/prod/sa/under-short'],
  });
  const caller = {
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: chainPem(leaf, intermediate),
    key: leaf.keyPem,
    path: '/orders',
    agent,
  };
  t.equal(
    (await httpsRequest(caller)).status,
    200,
    'admitted while the intermediate is valid (only the root is loaded)',
  );
  // The awaited event is the wall clock passing notAfter (plus a margin past its whole second): nothing to poll.
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1500));
  t.equal((await httpsRequest(caller)).status, 403, 'refused on the same connection once the intermediate expired');
  t.equal(upstream.received.length, 1, 'the upstream saw only the request made while the chain was valid');
});
