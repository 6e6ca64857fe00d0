// HTTP/2 methods fastify's router does not know (`get`, `FOO`) are connection-checked, logged, counted and answered
// with the fixed 400 and a request id; HTTP/1.1 odd methods keep going through the hooks.
import t from 'tap';
import http2 from 'node:http2';
import { metricValue, rawTlsExchange, startGateStack, type TestPki } from '../helpers/gate-harness.js';
import { accessLines } from './lib/raw.js';
import { connectH2 } from '../helpers/h2-client.js';

interface H2Answer {
  status: number;
  requestId: string | undefined;
  body: string;
}

/** One HTTP/2 request on a fresh session; `null` when the session died without an answer. */
function h2Request(pki: TestPki, port: number, headers: http2.OutgoingHttpHeaders): Promise<H2Answer | null> {
  return new Promise((resolve) => {
    const session = connectH2(port, pki.ca.certPem, pki.client);
    const timer = setTimeout(() => finish(null), 3000);
    let done = false;
    const finish = (answer: H2Answer | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const req = session.request(headers);
    let status = 0;
    let requestId: string | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      requestId = h['x-request-id'] as string | undefined;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      finish(status === 0 ? null : { status, requestId, body: Buffer.concat(chunks).toString('utf8') }),
    );
    req.on('error', () => finish(null));
    session.on('close', () => finish(null));
    req.end();
  });
}

t.test('unknown HTTP/2 methods get the fixed 400 through the same checks as any request', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);

  const lower = await h2Request(pki, proxy.port, {
    ':method': 'get',
    ':path': '/orders?secret=1',
    'x-request-id': 'h2-lower-get',
  });
  t.same(
    lower,
    { status: 400, requestId: 'h2-lower-get', body: '{"error":"bad_request","requestId":"h2-lower-get"}' },
    "`:method: get` → fixed 400 with the caller's request id",
  );
  const foo = await h2Request(pki, proxy.port, { ':method': 'FOO', ':path': '/orders' });
  t.equal(foo?.status, 400);
  t.match(foo?.requestId ?? '', /^[0-9a-f-]{36}$/, 'a generated request id in X-Request-Id');
  t.equal(
    foo?.body,
    JSON.stringify({ error: 'bad_request', requestId: foo?.requestId }),
    'the body carries the same id',
  );

  // HTTP/1.1 methods Node's parser accepts but no route serves still pass through the hooks (request id, access line).
  for (const method of ['PROPFIND', 'TRACE', 'QUERY']) {
    const h1 = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 1500,
      payload: `${method} /orders HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: h1-${method}\r\nConnection: close\r\n\r\n`,
    });
    t.match(
      h1.received,
      new RegExp(
        `^HTTP/1\\.1 400 Bad Request\\r\\n[^]*\\r\\n\\r\\n\\{"error":"bad_request","requestId":"h1-${method}"\\}$`,
      ),
      `HTTP/1.1 ${method}: fixed 400`,
    );
  }
  t.equal(upstream.received.length, 0, 'the upstream received nothing');

  const lines = accessLines(proxy.logLines());
  const h2Lines = lines.filter((l) => l.method === 'get' || l.method === 'FOO');
  t.same(
    h2Lines.map((l) => [l.method, l.status, l.decision, l.path]),
    [
      ['get', 400, 'bad_request', '/orders'],
      ['FOO', 400, 'bad_request', '/orders'],
    ],
    'one access line each, path without the query',
  );
  t.same(
    h2Lines.map((l) => l.requestId),
    ['h2-lower-get', foo?.requestId],
  );
  t.equal(lines.length, 5, 'one access line per request, no more');
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '400' }),
    4,
    'get, FOO, PROPFIND, QUERY counted under OTHER',
  );
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'TRACE', code: '400' }), 1);
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'bad_request' }),
    2,
    'the two HTTP/2 requests judged bad_request',
  );
});

t.test('an unknown HTTP/2 method on a connection without verified state is dropped unanswered', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  // Detaching the gate leaves new connections without verified state (what the request-level check exists for).
  proxy.proxy.stopGate();
  t.equal(
    await h2Request(pki, proxy.port, { ':method': 'FOO', ':path': '/orders' }),
    null,
    'session dropped, no status received',
  );
  t.equal(await h2Request(pki, proxy.port, { ':method': 'get', ':path': '/orders' }), null);
  t.equal(await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'no_identity' }), 2);
  t.equal(accessLines(proxy.logLines()).length, 0);
  t.equal(upstream.received.length, 0);
});
