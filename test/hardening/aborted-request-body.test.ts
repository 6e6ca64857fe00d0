// A caller that disconnects mid-body (short Content-Length, unterminated chunked, HTTP/2 stream reset) leaves exactly
// one access line with status 499 and one requests_total{code="499"}.
import t from 'tap';
import http2 from 'node:http2';
import { baseConfig, makeTestPki, metricValue, startTestProxy } from '../helpers/gate-harness.js';
import { accessLines, openHttp1, startPartialUpstream, waitFor } from './lib/raw.js';
import { connectH2 } from '../helpers/h2-client.js';

t.test('requests aborted mid-body are recorded once, as 499', async (t) => {
  const pki = makeTestPki();
  const upstream = await startPartialUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const linesOf = (id: string): Array<Record<string, unknown>> =>
    accessLines(proxy.logLines()).filter((l) => l.requestId === id);
  const seenBy = (id: string) => upstream.seen.find((r) => r.requestId === id);

  /**
   * Sends `head` + `partial` on a fresh HTTP/1.1 connection, waits until the upstream holds the request, then
   * disconnects.
   */
  const abortHttp1 = async (id: string, head: string, partial: string): Promise<void> => {
    const conn = await openHttp1(pki, proxy.port);
    conn.socket.write(head.replace('\r\n\r\n', `\r\nX-Request-Id: ${id}\r\n\r\n`) + partial);
    t.ok(await waitFor(() => (seenBy(id)?.bytes ?? 0) > 0), `${id}: forwarded, body streaming`);
    conn.socket.destroy();
    t.ok(await waitFor(() => linesOf(id).length > 0), `${id}: access line written`);
    t.equal(conn.received(), '', `${id}: nothing was answered before the caller left`);
  };

  await abortHttp1(
    'cut-length',
    'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n',
    '0123456789',
  );
  await abortHttp1(
    'cut-chunked',
    'POST /chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n',
    'a\r\n0123456789\r\n',
  );

  // HTTP/2: the caller resets its stream after part of the body.
  const session = connectH2(proxy.port, pki.ca.certPem, pki.client);
  t.teardown(() => session.destroy());
  const stream = session.request({
    ':method': 'PUT',
    ':path': '/h2-upload',
    'x-request-id': 'cut-h2',
    'content-length': '100',
  });
  stream.on('error', () => undefined);
  stream.write('0123456789');
  t.ok(await waitFor(() => (seenBy('cut-h2')?.bytes ?? 0) > 0), 'cut-h2: forwarded, body streaming');
  stream.close(http2.constants.NGHTTP2_CANCEL);
  t.ok(await waitFor(() => linesOf('cut-h2').length > 0), 'cut-h2: access line written');

  // Any second record (a late error answer, onResponse) would land within this time.
  await new Promise((r) => setTimeout(r, 500));
  for (const [id, method, path] of [
    ['cut-length', 'POST', '/upload'],
    ['cut-chunked', 'POST', '/chunked'],
    ['cut-h2', 'PUT', '/h2-upload'],
  ] as const) {
    const lines = linesOf(id);
    t.equal(lines.length, 1, `${id}: exactly one access line`);
    t.match(
      lines[0],
      { method, path, status: 499, decision: 'allow', subject: 'CN=orders,OU=payments,O=Acme' },
      `${id}: 499 as judged`,
    );
    const seen = seenBy(id);
    t.equal(seen?.bytes, 10, `${id}: the upstream got the 10 bytes sent`);
    t.not(seen?.state, 'complete', `${id}: the upstream never saw a complete request`);
  }
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'POST', code: '499' }), 2);
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'PUT', code: '499' }), 1);
  t.equal(accessLines(proxy.logLines()).length, 3, 'no other access line');
  t.equal(
    (await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'reset' })) +
      (await metricValue(proxy, 'mtls_sidecar_upstream_errors_total', { reason: 'other' })),
    0,
    'a caller abort is not counted as an upstream error',
  );
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'bad_request' }),
    0,
    'nor as a malformed request',
  );
  t.notOk(
    proxy.logLines().some((l) => l.msg === 'unparsable HTTP/1.1 request refused'),
    'nor logged as one',
  );
});

t.test('a caller that leaves mid-body after its answer was complete is recorded once, with that answer', async (t) => {
  const pki = makeTestPki();
  const upstream = await startPartialUpstream();
  upstream.mode['/early'] = 'early';
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const conn = await openHttp1(pki, proxy.port);
  conn.socket.write(
    'POST /early HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: early\r\nContent-Length: 100\r\n\r\n0123456789',
  );
  t.ok(
    await waitFor(() => /upstream-ok \/early$/.test(conn.received())),
    'the upstream answer reached the caller before the body ended',
  );
  conn.socket.destroy();
  const linesOfEarly = (): Array<Record<string, unknown>> =>
    accessLines(proxy.logLines()).filter((l) => l.requestId === 'early');
  t.ok(await waitFor(() => linesOfEarly().length > 0), 'access line written');
  // Any second record (a late error answer, onResponse) would land within this time.
  await new Promise((r) => setTimeout(r, 500));
  const lines = linesOfEarly();
  t.equal(lines.length, 1, 'exactly one access line');
  t.match(lines[0], { status: 200, decision: 'allow' });
  const total =
    (await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'POST', code: '200' })) +
    (await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'POST', code: '499' }));
  t.equal(total, 1, 'counted once');
});
