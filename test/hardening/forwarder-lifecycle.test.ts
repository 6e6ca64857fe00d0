// The forwarder's edges: HTTP/2 bodies without a length still stream; an upstream that breaks off mid-body cuts the
// caller (HTTP/1.1 and HTTP/2) and is logged 502; a caller that leaves before the answer stops the upstream request
// and is logged 499, never as an upstream error.
import http2 from 'node:http2';
import https from 'node:https';
import t, { type Test } from 'tap';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
  type RecordingUpstream,
  type TestPki,
} from '../helpers/gate-harness.js';
import { accessLines, openHttp1, waitFor } from './lib/raw.js';
import { curl } from '../protocols/lib/curl.js';
import { connectH2 } from '../helpers/h2-client.js';

type Outcome = { status: number; body: string; error: string | null; rstCode?: number };

function h2Connect(pki: TestPki, port: number): http2.ClientHttp2Session {
  const session = connectH2(port, pki.ca.certPem, pki.client);
  return session;
}

function h2Exchange(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let text = '';
    let error: string | null = null;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
    stream.on('error', (err: Error & { code?: string }) => (error = err.code ?? err.message));
    stream.on('close', () => resolve({ status, body: text, error, rstCode: stream.rstCode }));
    if (body !== undefined) stream.end(body);
  });
}

function h1Get(pki: TestPki, port: number, path: string, id: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        path,
        headers: { 'x-request-id': id },
        ca: pki.ca.certPem,
        cert: pki.client.certPem,
        key: pki.client.keyPem,
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, error: null }));
        res.on('error', (err: Error & { code?: string }) =>
          resolve({ status: res.statusCode ?? 0, body: text, error: err.code ?? err.message }),
        );
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body: text, error: 'aborted' }));
      },
    );
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ status: 0, body: '', error: err.code ?? err.message }),
    );
    req.end();
  });
}

/**
 * PKI, recording upstream (with `handler` when given), in-process proxy and one HTTP/2 session, torn down after `t`.
 */
async function startStack(t: Test, handler?: RecordingUpstream['handler']) {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  if (handler) upstream.handler = handler;
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  const session = h2Connect(pki, proxy.port);
  t.teardown(async () => {
    session.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  return { pki, upstream, proxy, session };
}

t.test('an HTTP/2 request body without content-length reaches the upstream whole', async (t) => {
  const { pki, upstream, proxy, session } = await startStack(t);
  const r = await h2Exchange(
    session,
    { ':method': 'POST', ':path': '/orders', 'content-type': 'text/plain' },
    'hello-world',
  );
  t.equal(r.status, 200);
  t.equal(upstream.received.at(-1)?.body.toString('utf8'), 'hello-world', 'all 11 bytes arrived');
  const noType = await h2Exchange(session, { ':method': 'PUT', ':path': '/orders/1' }, 'no content-type either');
  t.equal(noType.status, 200);
  t.equal(upstream.received.at(-1)?.body.toString('utf8'), 'no content-type either');
  const bodyless = await h2Exchange(session, { ':method': 'GET', ':path': '/orders' });
  t.equal(bodyless.status, 200);
  t.equal(upstream.received.at(-1)?.body.length, 0);
  t.equal(
    upstream.received.at(-1)?.headers['transfer-encoding'],
    undefined,
    'a request that ended with its headers is forwarded without a body',
  );
  // The curl CLI as an independent HTTP/2 client: a body from standard input has no length, so none is sent.
  const fromCurl = await curl({
    port: proxy.port,
    ca: pki.ca.cert,
    client: pki.client,
    path: '/orders/2',
    stdin: 'streamed by curl',
    args: ['-X', 'POST'],
  });
  t.equal(fromCurl.httpVersion, '2', 'curl spoke HTTP/2');
  t.equal(fromCurl.status, 200);
  t.equal(upstream.received.at(-1)?.method, 'POST');
  t.equal(upstream.received.at(-1)?.body.toString('utf8'), 'streamed by curl', "curl's body arrived whole");
});

t.test('an upstream that breaks off mid-body cuts the caller and is logged 502', async (t) => {
  const { pki, proxy, session } = await startStack(t, (_rec, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
    res.write('0123456789');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const h1 = await h1Get(pki, proxy.port, '/cut', 'cut-h1');
  t.equal(h1.status, 200, 'HTTP/1.1: the head had been sent');
  t.equal(h1.body, '0123456789');
  t.not(h1.error, null, `HTTP/1.1: the response ended in an error (${String(h1.error)}), not as if complete`);
  const h2 = await h2Exchange(session, { ':method': 'GET', ':path': '/cut', 'x-request-id': 'cut-h2' });
  t.equal(h2.status, 200);
  t.equal(h2.body, '0123456789');
  t.equal(
    h2.rstCode,
    http2.constants.NGHTTP2_INTERNAL_ERROR,
    'HTTP/2: the stream is reset with INTERNAL_ERROR, not ended',
  );
  t.ok(
    await waitFor(
      () => accessLines(proxy.logLines()).filter((l) => String(l.requestId).startsWith('cut-')).length === 2,
    ),
  );
  for (const id of ['cut-h1', 'cut-h2']) {
    const lines = accessLines(proxy.logLines()).filter((l) => l.requestId === id);
    t.equal(lines.length, 1, `${id}: one access line`);
    t.match(lines[0], { status: 502, decision: 'allow' }, `${id}: logged 502`);
    t.ok(
      typeof lines[0]?.reason === 'string' && lines[0].reason !== '',
      `${id}: with the upstream failure as reason (${String(lines[0]?.reason)})`,
    );
  }
  const counted =
    (await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'reset' })) +
    (await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'other' }));
  t.equal(counted, 2, 'both counted as upstream errors');
});

t.test('a caller that leaves before the answer stops the upstream request; 499, not an upstream error', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const upstreamClosedAt = new Map<string, number>();
  upstream.handler = (rec, res) => {
    // Never answers on its own within the test: only the proxy giving up on the request ends it.
    const id = String(rec.headers['x-request-id']);
    res.on('close', () => upstreamClosedAt.set(id, Date.now()));
    setTimeout(() => res.writeHead(200).end('late'), 10_000).unref();
  };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  for (const [id, method, body] of [
    ['gone-get', 'GET', undefined],
    ['gone-post', 'POST', 'a complete body'],
  ] as const) {
    const session = h2Connect(pki, proxy.port);
    const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': '/slow', 'x-request-id': id };
    const stream = session.request(headers, { endStream: body === undefined });
    stream.on('error', () => undefined);
    if (body !== undefined) stream.end(body);
    t.ok(
      await waitFor(() => upstream.received.some((r) => r.headers['x-request-id'] === id)),
      `${id}: the upstream has the whole request`,
    );
    const leftAt = Date.now();
    stream.close(http2.constants.NGHTTP2_CANCEL);
    t.ok(await waitFor(() => upstreamClosedAt.has(id), 3000), `${id}: the upstream request was cut`);
    t.ok((upstreamClosedAt.get(id) ?? Infinity) - leftAt < 2000, `${id}: soon after the caller left`);
    t.ok(
      await waitFor(() => accessLines(proxy.logLines()).some((l) => l.requestId === id)),
      `${id}: access line written`,
    );
    session.destroy();
  }
  let upstreamErrors = 0;
  for (const reason of ['reset', 'other', 'timeout', 'refused', 'tls'])
    upstreamErrors += await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason });
  t.equal(upstreamErrors, 0, 'a caller leaving is not counted as an upstream error');
  // HTTP/1.1: the caller's connection closes while the upstream still works on a bodyless GET, and after a whole POST.
  for (const [id, head] of [
    ['gone-h1', 'GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: gone-h1\r\n\r\n'],
    [
      'gone-h1-post',
      'POST /slow HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: gone-h1-post\r\nContent-Length: 4\r\n\r\nbody',
    ],
  ] as const) {
    const conn = await openHttp1(pki, proxy.port);
    conn.socket.write(head);
    t.ok(
      await waitFor(() => upstream.received.some((r) => r.headers['x-request-id'] === id)),
      `${id}: the upstream has the whole request`,
    );
    const leftAt = Date.now();
    conn.socket.destroy();
    t.ok(await waitFor(() => upstreamClosedAt.has(id), 3000), `${id}: the upstream request was cut`);
    t.ok((upstreamClosedAt.get(id) ?? Infinity) - leftAt < 2000, `${id}: soon after the caller left`);
    t.ok(
      await waitFor(() => accessLines(proxy.logLines()).some((l) => l.requestId === id)),
      `${id}: access line written`,
    );
  }
  for (const reason of ['reset', 'other', 'timeout', 'refused', 'tls'])
    upstreamErrors += await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason });
  t.equal(upstreamErrors, 0, 'nor over HTTP/1.1');
  const lines = accessLines(proxy.logLines());
  for (const id of ['gone-get', 'gone-post', 'gone-h1', 'gone-h1-post']) {
    const mine = lines.filter((l) => l.requestId === id);
    t.equal(mine.length, 1, `${id}: exactly one access line`);
    t.match(mine[0], { status: 499, decision: 'allow' }, `${id}: 499`);
  }
});
