// `Expect: 100-continue` is answered 100 only once the request is admitted (a refusal comes first, without inviting
// the body); a Transfer-Encoding whose last coding is not chunked gets the fixed 400 the caller can read.
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { makeLeaf } from '../helpers/pki.js';
import { openHttp1, waitFor } from './lib/raw.js';
import { connectH2 } from '../helpers/h2-client.js';

t.test('Expect: 100-continue is decided first; invalid Transfer-Encoding is answered', async (t) => {
  const pki = makeTestPki();
  const outsider = makeLeaf(pki.dir, 'outsider', pki.ca, {
    subject: '/CN=outsider',
    san: ['URI:spiffe://example.org/ns/dev/sa/outsider'],
  });
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const expectHead = (id: string): string =>
    `POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Request-Id: ${id}\r\n\r\n`;

  // Refused caller, HTTP/1.1: the 403 is the first thing it hears; no body was invited.
  const denied = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: outsider.certPem,
    key: outsider.keyPem,
    payload: expectHead('expect-denied'),
    timeoutMs: 5000,
  });
  t.match(denied.received, /^HTTP\/1\.1 403 Forbidden\r\n/, 'HTTP/1.1 refusal: 403 first');
  t.notMatch(denied.received, /100 Continue/, 'and no 100 Continue at all');

  // Admitted caller: 100 Continue, then (body sent) the upstream's answer.
  const conn = await openHttp1(pki, proxy.port);
  conn.socket.write(expectHead('expect-ok'));
  t.ok(await waitFor(() => conn.received().includes('\r\n\r\n'), 5000), 'an interim answer arrives before any body');
  t.match(conn.received(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'admitted: 100 Continue');
  t.equal(upstream.received.length, 0, 'nothing forwarded complete yet');
  conn.socket.write('hello');
  t.ok(
    await waitFor(() => /HTTP\/1\.1 200 OK[^]*"bodyLength":5/.test(conn.received()), 5000),
    'then 200 from the upstream with the 5-byte body',
  );
  conn.socket.destroy();

  // HTTP/2 refusal: the compat layer would also have sent 100 first.
  const session = connectH2(proxy.port, pki.ca.certPem, outsider);
  t.teardown(() => session.destroy());
  const statuses: number[] = [];
  const stream = session.request({
    ':method': 'POST',
    ':path': '/upload',
    expect: '100-continue',
    'content-length': '5',
  });
  stream.on('headers', (h) => statuses.push(Number(h[':status'])));
  stream.on('response', (h) => statuses.push(Number(h[':status'])));
  stream.on('error', () => undefined);
  stream.resume();
  await new Promise<void>((resolve) => stream.on('close', () => resolve()));
  t.same(statuses, [403], 'HTTP/2 refusal: 403 only');

  // Transfer-Encoding whose final coding is not chunked: a 400 the caller reads, then the connection closes.
  for (const te of ['gzip', 'chunked, gzip', 'identity']) {
    const res = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 5000,
      payload: `POST /te HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: ${te}\r\nX-Request-Id: te\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    });
    t.match(
      res.received,
      /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n\{"error":"bad_request","requestId":"[^"]*"\}$/,
      `Transfer-Encoding: ${te} → fixed 400`,
    );
  }
  t.equal(upstream.received.length, 1, 'the upstream received only the admitted request');
});
