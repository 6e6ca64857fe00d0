// Requests pipelined before a close (Connection: close, an HTTP/1.0 request) or before a bad line are all answered, in
// order, before the connection closes; bytes after a close are ignored, a bad line gets its 400 last.
import t from 'tap';
import { metricValue, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';
import { accessLines } from './lib/raw.js';

const get = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${path.slice(1)}\r\n${extra}\r\n`;

t.test('accepted pipelined requests are answered before the connection ends', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const cases = [
    {
      name: 'after Connection: close',
      payload: get('/c1') + get('/c2', 'Connection: close\r\n') + get('/c3'),
      answers: ['200', '200'],
      ran: ['/c1', '/c2'],
    },
    {
      name: 'after HTTP/1.0',
      payload: get('/h1') + 'GET /h2 HTTP/1.0\r\nHost: localhost\r\nX-Request-Id: h2\r\n\r\n' + get('/h3'),
      answers: ['200', '200'],
      ran: ['/h1', '/h2'],
    },
    {
      name: 'before a bad line',
      payload: get('/b1') + get('/b2') + 'GARBAGE\r\n\r\n',
      answers: ['200', '200', '400'],
      ran: ['/b1', '/b2'],
    },
  ];
  for (const c of cases) {
    const before = upstream.received.length;
    const res = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: c.payload,
      timeoutMs: 10_000,
    });
    const statuses = res.received
      .split('\r\n')
      .filter((l) => l.startsWith('HTTP/1.1 '))
      .map((l) => l.split(' ')[1]);
    t.same(statuses, c.answers, `${c.name}: ${c.answers.join(', ')} in order`);
    t.same(
      upstream.received.slice(before).map((r) => r.url),
      c.ran,
      `${c.name}: the upstream ran exactly the accepted requests`,
    );
    for (const path of c.ran) t.match(res.received, `"url":"${path}"`, `${c.name}: the answer to ${path} arrived`);
  }
  const lines = accessLines(proxy.logLines());
  t.same(
    lines.map((l) => [l.path, l.status]),
    cases.flatMap((c) => c.ran.map((p) => [p, 200])),
    'one access line per answered request',
  );
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'OTHER', code: '400' }),
    1,
    'the bad line counted once; bytes after a close are not',
  );
});
