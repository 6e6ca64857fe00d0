// Request lines other than HTTP/1.0 and HTTP/1.1 on an HTTP/1 connection (`HTTP/2.0`, `HTTP/0.9`…) get the fixed 400,
// are logged and counted, the connection closes, and the upstream sees nothing; the transport is the connection's,
// never the line's version.
import t from 'tap';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';
import { accessLines } from './lib/raw.js';

const CASES: Array<[string, string]> = [
  ['h2-line', 'GET /x HTTP/2.0\r\nHost: localhost\r\nX-Request-Id: h2-line\r\n\r\n'],
  // gRPC content type: once thrown on the missing HTTP/2 stream, unanswered, unlogged, with no timeout.
  [
    'h2-line-grpc',
    'POST /pkg.Svc/Call HTTP/2.0\r\nHost: localhost\r\nContent-Type: application/grpc\r\nTe: trailers\r\nX-Request-Id: h2-line-grpc\r\n\r\n',
  ],
  // A body that never comes: no timeout was applied to it.
  [
    'h2-line-stalled-body',
    'POST /upload HTTP/2.0\r\nHost: localhost\r\nContent-Length: 100\r\nX-Request-Id: h2-line-stalled-body\r\n\r\nabc',
  ],
  // Without Host: once forwarded, as the Host check was for version 1 only.
  ['h2-line-no-host', 'GET /x HTTP/2.0\r\nX-Request-Id: h2-line-no-host\r\n\r\n'],
  ['h09-line', 'GET /x HTTP/0.9\r\nHost: localhost\r\nX-Request-Id: h09-line\r\n\r\n'],
];

t.test('HTTP/1 connections take HTTP/1.0 and HTTP/1.1 request lines only', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { idleTimeoutMs: 30_000, requestTimeoutMs: 60_000 });
  for (const [id, payload] of CASES) {
    const started = Date.now();
    const res = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload,
      timeoutMs: 15_000,
    });
    t.match(
      res.received,
      new RegExp(`^HTTP/1\\.1 400 Bad Request\\r\\n[^]*\\r\\n\\r\\n\\{"error":"bad_request","requestId":"${id}"\\}$`),
      `${id}: fixed 400`,
    );
    t.ok(Date.now() - started < 15_000, `${id}: and the connection closed by the proxy`);
  }
  t.equal(upstream.received.length, 0, 'the upstream received nothing');
  const lines = accessLines(proxy.logLines());
  t.same(
    lines.map((l) => [l.requestId, l.status, l.decision]),
    CASES.map(([id]) => [id, 400, 'bad_request']),
    'one access line each, bad_request',
  );
  const counted =
    (await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'GET', code: '400' })) +
    (await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'POST', code: '400' }));
  t.equal(counted, CASES.length, 'each counted in requests_total');
  t.equal(await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'bad_request' }), CASES.length);

  // The same connection still serves an ordinary HTTP/1.1 request, and HTTP/1.0 is served too.
  for (const version of ['1.1', '1.0']) {
    const ok = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 5000,
      payload: `GET /fine HTTP/${version}\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    });
    t.match(ok.received, /^HTTP\/1\.1 200 OK\r\n/, `HTTP/${version} served`);
  }
  t.equal(upstream.received.length, 2);
});
