// During drain, a request arriving on an open keep-alive connection gets the fixed 503 body with its request id,
// Connection: close and an access line, and is not forwarded.
import t from 'tap';
import { baseConfig, makeTestPki, metricValue, startTestProxy } from '../helpers/gate-harness.js';
import { accessLines, openHttp1, startPartialUpstream, waitFor } from './lib/raw.js';

/** Splits raw HTTP/1.1 responses (Content-Length framed, as all of these are) into status, headers and body. */
function parseResponses(raw: string): Array<{ status: string; headers: Record<string, string>; body: string }> {
  const out: Array<{ status: string; headers: Record<string, string>; body: string }> = [];
  let rest = raw;
  for (let i = 0; i < 10 && rest.length > 0; i += 1) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [status = '', ...fields] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const f of fields) headers[f.slice(0, f.indexOf(':')).toLowerCase()] = f.slice(f.indexOf(':') + 1).trim();
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

t.test(
  'a request on a kept-alive connection during drain: fixed 503, Connection: close, logged, not forwarded',
  async (t) => {
    const pki = makeTestPki();
    const upstream = await startPartialUpstream();
    upstream.mode['/slow'] = 'hold';
    const proxy = await startTestProxy(baseConfig(pki, upstream.url, { shutdownGraceMs: 5000 }));
    t.teardown(async () => {
      upstream.release();
      await proxy.close(0);
      await upstream.close();
      pki.cleanup();
    });

    const conn = await openHttp1(pki, proxy.port);
    conn.socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: in-flight\r\n\r\n');
    t.ok(await waitFor(() => upstream.seen.some((r) => r.url === '/slow')), 'first request in flight at the upstream');

    const closing = proxy.close(5000);
    t.ok(await waitFor(() => !proxy.proxy.server.listening), 'drain started: the listener stopped accepting');
    conn.socket.write('GET /next HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: after-drain\r\n\r\n');
    // Its answer waits behind the first one (HTTP/1.1 order); its judgement is visible at once.
    t.ok(
      await waitFor(
        async () => (await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'allow' })) === 2,
      ),
      'the second request was judged',
    );
    upstream.release();
    t.ok(await conn.closed(3000), 'the proxy closed the connection after answering');
    await closing;

    const [first, second, ...more] = parseResponses(conn.received());
    t.equal(first?.status, 'HTTP/1.1 200 OK', 'the in-flight request finished');
    t.equal(first?.body, 'upstream-ok /slow');
    t.equal(second?.status, 'HTTP/1.1 503 Service Unavailable');
    t.equal(second?.body, '{"error":"unavailable","requestId":"after-drain"}', 'the fixed body, with the request id');
    t.equal(second?.headers['x-request-id'], 'after-drain');
    t.equal(second?.headers['connection'], 'close');
    t.equal(second?.headers['content-type'], 'application/json; charset=utf-8');
    t.same(more, [], 'nothing else on the connection');
    t.same(
      upstream.seen.map((r) => r.url),
      ['/slow'],
      'the upstream never saw the request that came during drain',
    );

    const line = accessLines(proxy.logLines()).filter((l) => l.requestId === 'after-drain');
    t.equal(line.length, 1, 'one access line');
    t.match(line[0], { method: 'GET', path: '/next', status: 503 });
    t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'GET', code: '503' }), 1);
    t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'GET', code: '200' }), 1);
  },
);
