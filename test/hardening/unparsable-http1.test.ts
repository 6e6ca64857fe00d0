// HTTP/1.1 bytes Node's parser refuses get fixed bodies (400 bad_request, 431 header_too_large, 408 request_timeout)
// with Connection: close, are counted and rate-limit-logged, and never echo the input.
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  rawTlsExchange,
  startGateStack,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import { accessLines, openHttp1, waitFor } from './lib/raw.js';

const BAD_REQUEST =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 38\r\nConnection: close\r\n\r\n{"error":"bad_request","requestId":""}';
const TOO_LARGE =
  'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 43\r\nConnection: close\r\n\r\n{"error":"header_too_large","requestId":""}';
const TIMEOUT =
  'HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 42\r\nConnection: close\r\n\r\n{"error":"request_timeout","requestId":""}';
const MARKER = 'echo-marker-5b1f';

function send(
  pki: TestPki,
  port: number,
  payload: string,
  timeoutMs = 3000,
): Promise<{ received: string; closedByProxy: boolean }> {
  const started = Date.now();
  return rawTlsExchange({
    port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload,
    timeoutMs,
  }).then((r) => ({
    received: r.received,
    closedByProxy: Date.now() - started < timeoutMs - 100,
  }));
}

t.test('malformed HTTP/1.1 gets fixed bodies, is counted and logged, nothing is forwarded', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { headersTimeoutMs: 600 });
  const badRequests: Array<[string, string]> = [
    ['header name with trailing space', `GET /x HTTP/1.1\r\nHost : localhost\r\nX-M: ${MARKER}\r\n\r\n`],
    ['header name with trailing tab', `GET /x HTTP/1.1\r\nHost\t: localhost\r\nX-M: ${MARKER}\r\n\r\n`],
    ['obs-fold', `GET /x HTTP/1.1\r\nHost: localhost\r\nX-M: a\r\n ${MARKER}\r\n\r\n`],
    [
      'Content-Length with Transfer-Encoding',
      `POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${MARKER}`,
    ],
    ['PRI', `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${MARKER}`],
  ];
  for (const [label, payload] of badRequests) {
    const r = await send(pki, proxy.port, payload);
    t.equal(r.received, BAD_REQUEST, `${label}: exact fixed 400`);
    t.ok(r.closedByProxy, `${label}: connection closed by the proxy`);
  }
  const big = await send(
    pki,
    proxy.port,
    `GET /x HTTP/1.1\r\nHost: localhost\r\nX-M: ${MARKER}${'a'.repeat(20_000)}\r\n\r\n`,
  );
  t.equal(big.received, TOO_LARGE, 'oversize head: exact fixed 431');
  t.ok(big.closedByProxy);
  const slow = await send(pki, proxy.port, `GET /x HTTP/1.1\r\nHost: localhost\r\nX-M: ${MARKER}\r\n`);
  t.equal(slow.received, TIMEOUT, 'head not finished within --headers-timeout: exact fixed 408');
  t.ok(slow.closedByProxy);

  t.equal(upstream.received.length, 0, 'the upstream received nothing');
  t.equal(accessLines(proxy.logLines()).length, 0, 'no request existed, so no access line');
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '400' }), 5);
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '431' }), 1);
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '408' }), 1);
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'bad_request' }),
    6,
    '400 and 431 judged bad_request; a timeout is not',
  );
  const warned = proxy.logLines().filter((l) => l.msg === 'unparsable HTTP/1.1 request refused');
  t.same(
    warned.map((l) => l.status),
    [400, 400, 400, 400, 400, 431, 408],
    'each logged',
  );
  t.match(warned[0], { level: 40, code: /^HPE_/, peer: /^127\.0\.0\.1:\d+$/ });
  t.notOk(
    proxy.logLines().some((l) => JSON.stringify(l).includes(MARKER)),
    'the input never reaches the log',
  );
});

t.test('a malformed request behind an unanswered one is refused after that answer, never in its place', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  let releaseSlow: () => void = () => undefined;
  upstream.handler = (_req, res) => {
    releaseSlow = () => res.end('upstream-ok');
  };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    releaseSlow();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const conn = await openHttp1(pki, proxy.port);
  conn.socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
  t.ok(await waitFor(() => upstream.received.length === 1), 'first request at the upstream');
  conn.socket.write('GET /x HTTP/1.1\r\nHost : localhost\r\n\r\n');
  t.notOk(await conn.closed(500), 'the connection waits for the answer it owes');
  t.equal(conn.received(), '', 'no 400 written where the answer to the forwarded request belongs');
  releaseSlow();
  t.ok(await conn.closed(5000), 'connection closed once both are answered');
  t.match(
    conn.received(),
    /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nupstream-ok(?:\r\n0\r\n\r\n)?HTTP\/1\.1 400 Bad Request\r\n[^]*"error":"bad_request"/,
    "the forwarded request's answer first, then the 400",
  );
  t.equal(upstream.received.length, 1, 'the malformed one never reached the upstream');
});

t.test('the refusal log is rate-limited and summarised', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await upstream.close();
    pki.cleanup();
  });
  for (let i = 0; i < 25; i += 1) await send(pki, proxy.port, 'GET /x HTTP/1.1\r\nHost : localhost\r\n\r\n');
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '400' }),
    25,
    'every one counted',
  );
  t.equal(
    proxy.logLines().filter((l) => l.msg === 'unparsable HTTP/1.1 request refused').length,
    20,
    'at most 20 lines per window',
  );
  await proxy.close(100);
  const summary = proxy.logLines().find((l) => l.msg === 'unparsable HTTP/1.1 requests suppressed from the log');
  t.match(summary, { total: 5, suppressed: { HPE_INVALID_HEADER_TOKEN: 5 } }, 'the rest summarised at shutdown');
});
