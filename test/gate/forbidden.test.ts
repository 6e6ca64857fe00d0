// A verified caller that no allow rule admits gets 403 with the fixed body; the upstream receives nothing.
import t from 'tap';
import { makeLeaf } from '../helpers/pki.js';
import { httpsRequest, startGateStack } from '../helpers/gate-harness.js';

t.test('no matching allow rule → 403, upstream untouched', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  // Look-alikes of the allowed `spiffe://example.org/ns/prod/*` prefix.
  const callers = [
    makeLeaf(pki.dir, 'production', pki.ca, { san: ['URI:spiffe://example.org/ns/production/sa/x'] }),
    makeLeaf(pki.dir, 'prodx', pki.ca, { san: ['URI:spiffe://example.org/ns/prodx'] }),
    makeLeaf(pki.dir, 'bare', pki.ca, { san: ['URI:spiffe://example.org/ns/prod'] }),
    makeLeaf(pki.dir, 'nosan', pki.ca, { subject: '/CN=orders/O=Acme' }),
  ];
  for (const caller of callers) {
    const res = await httpsRequest({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: caller.certPem,
      key: caller.keyPem,
      path: '/orders',
      method: 'POST',
      body: 'payload',
      headers: { 'x-request-id': `req-${caller.name}` },
    });
    t.equal(res.status, 403, `${caller.name} refused`);
    t.same(
      JSON.parse(res.body),
      { error: 'forbidden', requestId: `req-${caller.name}` },
      'fixed body with the request id',
    );
    t.match(res.headers['content-type'], /application\/json/);
  }
  t.equal(upstream.received.length, 0, 'upstream received nothing');
  const access = proxy.logLines().filter((l) => l.msg === 'access');
  t.equal(access.length, callers.length);
  t.ok(access.every((l) => l.decision === 'deny' && l.status === 403));
});
