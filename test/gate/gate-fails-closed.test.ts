// A connection the gate cannot judge (anything it reads throws) is closed unanswered, counted as `other`, and the
// process keeps serving: a throw inside the gate's 'secureConnection' listener would otherwise end the process.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { httpsRequest, metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

t.test('a gate that throws refuses the connection and the proxy keeps serving', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const ca = readFileSync(pki.ca.cert, 'utf8');
  const client = {
    port: proxy.port,
    ca,
    cert: readFileSync(pki.client.cert, 'utf8'),
    key: readFileSync(pki.client.key, 'utf8'),
  };
  const request = async (): Promise<number> => (await httpsRequest(client)).status;

  t.equal(await request(), 200, 'a request is forwarded before the fault');
  const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'other' });

  // The snapshot store is what the gate reads first on every handshake: make it throw for the gate's next reads.
  const store = proxy.store;
  Object.defineProperty(store, 'current', {
    configurable: true,
    get() {
      throw new Error('snapshot unreadable');
    },
  });
  const refused = await rawTlsExchange({
    ...client,
    payload: 'GET /refused HTTP/1.1\r\nHost: localhost\r\n\r\n',
  });
  delete (store as { current?: unknown }).current;
  t.equal(store.current.version, 1, 'the store reads as before once the fault is gone');

  t.equal(refused.received, '', 'nothing was answered on the connection the gate could not judge');
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'other' }),
    before + 1,
    'it is counted as a handshake failure, reason other',
  );
  t.equal(await request(), 200, 'the proxy still serves the next connection');
  t.same(
    upstream.received.map((r) => r.url),
    ['/', '/'],
    'the upstream received nothing from the refused connection',
  );
});
