// A refused HTTP/1.1 request whose body is still coming (403, 400) is answered, and its body drained for at most
// --idle-timeout in all: the proxy never reads a trickled body for as long as the caller cares to send it.
import t from 'tap';
import { baseConfig, makeTestPki, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';
import { makeLeaf } from '../helpers/pki.js';
import { trickleTls } from '../reliability/lib/abuse.js';
import { accessLines } from './lib/raw.js';

t.test('refusals with a body to come are answered, then the drain is cut at --idle-timeout', async (t) => {
  const pki = makeTestPki();
  const outsider = makeLeaf(pki.dir, 'outsider', pki.ca, {
    subject: '/CN=outsider',
    san: ['URI:spiffe://example.org/ns/dev/sa/outsider'],
  });
  const upstream = await startRecordingUpstream();
  // A long request timeout: only the refusal's own drain bound (--idle-timeout) may end these connections.
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { idleTimeoutMs: 1500, requestTimeoutMs: 120_000 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const cases = [
    {
      id: 'deny-length',
      status: 403,
      who: outsider,
      head: 'POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n',
    },
    {
      id: 'deny-chunked',
      status: 403,
      who: outsider,
      head: 'POST /orders HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n',
    },
    { id: 'bad-no-host', status: 400, who: pki.client, head: 'POST /orders HTTP/1.1\r\nContent-Length: 100000\r\n' },
  ];
  for (const c of cases) {
    // One byte every 300 ms for up to 20 s: the old proxy read it all, answering but keeping the connection.
    const res = await trickleTls({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: c.who.certPem,
      key: c.who.keyPem,
      first: `${c.head}X-Request-Id: ${c.id}\r\n\r\n${c.id.endsWith('chunked') ? '64\r\n' : ''}a`,
      drip: 'b',
      everyMs: 300,
      maxMs: 20_000,
    });
    t.match(
      res.received,
      new RegExp(`^HTTP/1\\.1 ${c.status} [^]*\\r\\n\\r\\n\\{"error":"[a-z_]+","requestId":"${c.id}"\\}$`),
      `${c.id}: ${c.status}, fixed body`,
    );
    t.ok(
      res.closedByServerAfterMs !== null,
      `${c.id}: the proxy closed the connection (after ${res.closedByServerAfterMs} ms)`,
    );
  }
  t.equal(upstream.received.length, 0, 'the upstream received nothing');
  const lines = accessLines(proxy.logLines());
  t.same(
    lines.map((l) => [l.requestId, l.status]),
    cases.map((c) => [c.id, c.status]),
    'one access line each',
  );
});
