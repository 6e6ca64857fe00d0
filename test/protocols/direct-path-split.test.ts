// The listener serves plainly allowed requests without fastify and hands every other one to fastify: requests that
// look allowable but that fastify's router refuses get the same fixed 400 as ever and reach nothing upstream, both
// kinds share a keep-alive connection in order, Expect: 100-continue is answered after admission, and the access
// line and metrics of a directly served request agree with what the upstream and curl saw.
import t from 'tap';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { metricValue, rawHeaderValues, startGateStack, type TestProxy } from '../helpers/gate-harness.js';
import { accessLines, openHttp1, waitFor } from '../hardening/lib/raw.js';
import { curl } from './lib/curl.js';
import { connectH2 } from '../helpers/h2-client.js';

interface Dispatched {
  url: string;
  /** fastify built a reply for it (its response listeners are on the response). */
  fastify: boolean;
}

/**
 * Which requests reached a fastify route: fastify's route handler puts its `onResFinished` listener on the response,
 * inside the listener's dispatch, which runs before this listener. (Its framework-error and unknown-method answers
 * bypass the route handler; only fastify's code refuses, so a refusal is fastify's anyway.)
 */
function watchDispatch(proxy: TestProxy): Dispatched[] {
  const seen: Dispatched[] = [];
  const note = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const listeners = (res as ServerResponse).listeners('finish');
    seen.push({ url: req.url ?? '', fastify: listeners.some((f) => f.name === 'onResFinished') });
  };
  proxy.proxy.server.on('request', note);
  proxy.proxy.server.on('checkContinue', note);
  return seen;
}

function statusesOf(received: string): number[] {
  return [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

t.test('one keep-alive connection: direct and fastify answers in order, refusals reach nothing upstream', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const seen = watchDispatch(proxy);
  const conn = await openHttp1(pki, proxy.port);
  t.teardown(() => conn.socket.destroy());
  const head = (line: string): string => `${line} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
  // Pipelined in one write: Node answers them in order whichever path serves each.
  conn.socket.write(
    [
      head('GET /first?q=a%2Fb'),
      head('OPTIONS *'),
      head('GET /%FF'),
      head('TRACE /trace'),
      head('GET /caf%C3%A9'),
      head('GET /a/../last'),
    ].join(''),
  );
  t.ok(await waitFor(() => statusesOf(conn.received()).length === 6, 10_000), 'six answers on the connection');
  t.same(statusesOf(conn.received()), [200, 400, 400, 400, 200, 200], 'answered in request order');
  const bodies = conn.received();
  t.ok(
    bodies.indexOf('"url":"/first?q=a%2Fb"') < bodies.indexOf('"url":"/caf%C3%A9"') &&
      bodies.indexOf('"url":"/caf%C3%A9"') < bodies.indexOf('"url":"/last"'),
    "the upstream's bodies come back in order",
  );
  t.equal((bodies.match(/\{"error":"bad_request","requestId":"[^"]+"\}/g) ?? []).length, 3, 'three fixed 400 bodies');
  t.same(
    upstream.received.map((r) => r.url),
    ['/first?q=a%2Fb', '/caf%C3%A9', '/last'],
    'only the allowed requests reached the upstream (normalized path, query untouched)',
  );
  // The refusals come from fastify's router (framework errors, its fallback for methods it does not route) or its
  // hooks, the only code that refuses; of the allowed ones, the one with an escape went through fastify's route.
  t.same(
    [seen[0], seen[4], seen[5]],
    [
      { url: '/first?q=a%2Fb', fastify: false },
      { url: '/caf%C3%A9', fastify: true },
      { url: '/last', fastify: false },
    ],
    'plain allowed requests served directly; an escaped path through fastify',
  );
  t.ok(await waitFor(() => accessLines(proxy.logLines()).length === 6), 'one access line per request');
  const lines = accessLines(proxy.logLines());
  t.same(lines.map((l) => l.status).sort(), [200, 200, 200, 400, 400, 400]);
  t.same(
    lines
      .filter((l) => l.status === 200)
      .map((l) => l.path)
      .sort(),
    ['/caf%C3%A9', '/first', '/last'],
  );
  t.notOk(/connection: close/i.test(bodies), 'the connection was kept alive throughout');
});

t.test('HTTP/2: odd methods and targets still go to fastify; allowed requests are served directly', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const seen = watchDispatch(proxy);
  const session = connectH2(proxy.port, pki.ca.certPem, pki.client);
  t.teardown(() => session.destroy());
  const ask = (headers: http2.OutgoingHttpHeaders): Promise<{ status: number; requestId: unknown }> =>
    new Promise((resolve, reject) => {
      const req = session.request(headers);
      let status = 0;
      let requestId: unknown;
      req.on('response', (h) => {
        status = Number(h[':status']);
        requestId = h['x-request-id'];
      });
      req.on('error', reject);
      req.resume();
      req.on('end', () => resolve({ status, requestId }));
      req.end();
    });
  const one = await ask({ ':path': '/h2/one' });
  t.equal(one.status, 200);
  t.match(one.requestId, /^[0-9a-f-]{36}$/, 'a generated request id added to the answer');
  t.equal((await ask({ ':method': 'get', ':path': '/h2/lower' })).status, 400, '`:method: get` → 400');
  t.equal((await ask({ ':path': '/h2/%FF' })).status, 400, 'undecodable escape → 400');
  t.equal((await ask({ ':method': 'PROPFIND', ':path': '/h2/dav' })).status, 400, 'unforwarded method → 400');
  t.equal((await ask({ ':path': '/h2/two', 'x-request-id': 'h2-two' })).requestId, 'h2-two', 'request id echoed');
  t.same(
    upstream.received.map((r) => r.url),
    ['/h2/one', '/h2/two'],
    'only the allowed requests reached the upstream',
  );
  t.same(
    [seen[0]?.fastify, seen[4]?.fastify],
    [false, false],
    'allowed requests served directly (the refusals can only have come from fastify)',
  );
});

t.test('Expect: 100-continue on the direct path: 100 only after admission, then the body', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const seen = watchDispatch(proxy);
  const conn = await openHttp1(pki, proxy.port);
  t.teardown(() => conn.socket.destroy());
  conn.socket.write(
    'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Request-Id: cont-1\r\n\r\n',
  );
  t.ok(await waitFor(() => conn.received().includes('\r\n\r\n'), 5000), 'an interim answer arrives before any body');
  t.match(conn.received(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'admitted: 100 Continue');
  t.same(seen, [{ url: '/upload', fastify: false }], 'served by the direct path');
  t.equal(upstream.received.length, 0, 'nothing forwarded complete yet');
  conn.socket.write('hello');
  t.ok(
    await waitFor(() => /HTTP\/1\.1 200 OK[^]*"bodyLength":5/.test(conn.received()), 5000),
    'then 200 from the upstream with the 5-byte body',
  );
  t.same(rawHeaderValues(upstream.received[0]!, 'expect'), [], 'Expect is not forwarded');
  t.equal(upstream.received[0]!.body.toString(), 'hello');
});

t.test(
  'Expect: 100-continue over HTTP/2 on the direct path: 100 first, then the body reaches the upstream',
  async (t) => {
    const { pki, upstream, proxy } = await startGateStack(t);
    const seen = watchDispatch(proxy);
    const session = connectH2(proxy.port, pki.ca.certPem, pki.client);
    t.teardown(() => session.destroy());
    const statuses: number[] = [];
    const stream = session.request({
      ':method': 'POST',
      ':path': '/h2/upload',
      expect: '100-continue',
      'content-length': '5',
    });
    stream.on('error', () => undefined);
    stream.on('headers', (h) => statuses.push(Number(h[':status'])));
    stream.on('continue', () => {
      t.equal(upstream.received.length, 0, 'nothing forwarded complete before the body');
      stream.end('hello');
    });
    stream.on('response', (h) => statuses.push(Number(h[':status'])));
    stream.resume();
    await new Promise<void>((resolve) => stream.on('close', () => resolve()));
    t.same(statuses, [100, 200], "100 Continue, then the upstream's 200");
    t.same(seen, [{ url: '/h2/upload', fastify: false }], 'served by the direct path');
    t.equal(upstream.received[0]?.body.toString(), 'hello');
  },
);

async function durationCount(proxy: TestProxy): Promise<number> {
  const metric = proxy.metrics.registry.getSingleMetric('mtls_sidecar_request_duration_seconds');
  const data = await metric!.get();
  return data.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ?? 0;
}

t.test('access line and metrics of a directly served request match what the upstream and curl saw', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const seen = watchDispatch(proxy);
  upstream.handler = (_req, res) => {
    res.writeHead(201, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
    res.end('made');
  };
  for (const http1 of [true, false]) {
    const before = {
      allow: await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'allow' }),
      requests: await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'PUT', code: '201' }),
      durations: await durationCount(proxy),
    };
    const started = performance.now();
    const res = await curl({
      port: proxy.port,
      ca: pki.ca.cert,
      client: pki.client,
      path: '/items/./7?x=%2F',
      http1,
      args: ['-X', 'PUT', '--data-binary', 'abc', '-i'],
    });
    const wall = performance.now() - started;
    t.equal(res.status, 201, `${res.httpVersion}: the upstream's status`);
    t.equal(seen.at(-1)?.fastify, false, 'served by the direct path');
    const got = upstream.received.at(-1)!;
    t.equal(got.url, '/items/7?x=%2F', 'the upstream saw the normalized path and the untouched query');
    t.equal(got.body.toString(), 'abc');
    const requestId = rawHeaderValues(got, 'x-request-id');
    t.equal(requestId.length, 1, 'one request id upstream');
    const answered = /^x-request-id: (.+)\r?$/im.exec(res.body)?.[1]?.trim();
    t.equal(answered, requestId[0], 'curl got the request id the upstream saw');
    // HTTP/1.1: Node writes its own Connection and Keep-Alive (timeout=10, from --idle-timeout), never the upstream's.
    t.notMatch(res.body, /timeout=5/i, "the upstream's hop-by-hop headers removed");
    t.ok(await waitFor(() => accessLines(proxy.logLines()).some((l) => l.requestId === answered)), 'access line');
    const line = accessLines(proxy.logLines()).find((l) => l.requestId === answered)!;
    t.match(line, {
      method: 'PUT',
      path: '/items/7',
      status: 201,
      decision: 'allow',
      subject: 'CN=orders,OU=payments,O=Acme',
      uri: 'spiffe://example.org/ns/prod/sa/orders',
    });
    const durationMs = line.durationMs as number;
    t.ok(durationMs > 0 && durationMs <= wall, `durationMs (${durationMs}) within the request's wall time`);
    t.equal(
      await metricValue(proxy, 'mtls_sidecar_authz_decisions_total', { decision: 'allow' }),
      before.allow + 1,
      'one allow decision',
    );
    t.equal(
      await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'PUT', code: '201' }),
      before.requests + 1,
      'one request counted with its method and status',
    );
    t.equal(await durationCount(proxy), before.durations + 1, 'one duration observed');
  }
});
