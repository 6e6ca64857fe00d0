// An HTTP/1.1 request with more than one Host field is refused with the fixed 400 (RFC 9112 §3.2) and never forwarded.
import t from 'tap';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';
import { accessLines } from './lib/raw.js';

t.test('two Host fields → 400; one → forwarded', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const send = (id: string, hostLines: string): Promise<string> =>
    rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      timeoutMs: 2000,
      payload: `GET /orders HTTP/1.1\r\n${hostLines}X-Request-Id: ${id}\r\nConnection: close\r\n\r\n`,
    }).then((r) => r.received);

  const cases: Array<[string, string]> = [
    ['two-hosts', 'Host: localhost\r\nHost: evil.example\r\n'],
    ['same-value-other-case', 'host: localhost\r\nHOST: localhost\r\n'],
    ['apart', 'Host: localhost\r\nAccept: */*\r\nhOsT: evil.example\r\n'],
    ['second-empty', 'Host: localhost\r\nHost: \r\n'],
  ];
  for (const [id, hostLines] of cases) {
    const received = await send(id, hostLines);
    t.match(received, /^HTTP\/1\.1 400 Bad Request\r\n/, `${id}: 400`);
    t.match(received, new RegExp(`\\r\\nx-request-id: ${id}\\r\\n`, 'i'), `${id}: X-Request-Id`);
    t.ok(received.endsWith(`\r\n\r\n{"error":"bad_request","requestId":"${id}"}`), `${id}: fixed body`);
  }
  t.equal(upstream.received.length, 0, 'none forwarded');

  const ok = await send('one-host', 'Host: localhost\r\nX-Hostname: evil.example\r\n');
  t.match(ok, /^HTTP\/1\.1 200 OK\r\n/, 'a single Host (and look-alike names) is fine');
  t.same(
    upstream.received.map((r) => r.url),
    ['/orders'],
  );

  const lines = accessLines(proxy.logLines());
  t.same(
    lines.map((l) => [l.requestId, l.status, l.decision]),
    [
      ['two-hosts', 400, 'bad_request'],
      ['same-value-other-case', 400, 'bad_request'],
      ['apart', 400, 'bad_request'],
      ['second-empty', 400, 'bad_request'],
      ['one-host', 200, 'allow'],
    ],
  );
  t.equal(await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'bad_request' }), 4);
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'GET', code: '400' }), 4);
});
