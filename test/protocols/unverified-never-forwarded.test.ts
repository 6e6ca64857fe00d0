// A connection whose TLS socket carries no verified state is never forwarded, over HTTP/2 or HTTP/1.1: it is dropped
// unanswered.
import t from 'tap';
import { execFile } from 'node:child_process';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

function curlExit(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, (err, stdout) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

t.test('no verified state on the socket → no answer, nothing forwarded', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  // Detaching the connection gate leaves new connections without verified state: the situation the
  // request-level check exists for (a gate bug, a listener added in the wrong order).
  proxy.proxy.stopGate();
  const common = [
    '-sS',
    '--cacert',
    pki.ca.cert,
    '--cert',
    pki.client.cert,
    '--key',
    pki.client.key,
    '--resolve',
    `localhost:${proxy.port}:127.0.0.1`,
    '-w',
    '%{http_code}',
  ];
  const h2 = await curlExit([...common, '--http2', `https://localhost:${proxy.port}/orders`]);
  t.not(h2.code, 0, `curl --http2 fails (exit ${h2.code})`);
  t.notMatch(h2.stdout, /[1-5]\d\d/, 'no HTTP status was received');
  const h1 = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: 'GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n',
  });
  t.ok(h1.handshake);
  t.equal(h1.received, '', 'HTTP/1.1: connection closed without a byte of answer');
  t.equal(upstream.received.length, 0, 'upstream received nothing');
  t.equal(await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'no_identity' }), 2);
});
