// An HTTP/2 connection whose peer goes silent with a stream open (no frames, PINGs unanswered, no FIN) loses its
// socket soon after --idle-timeout, its upstream request is stopped and logged once as 499; a live peer that answers
// PINGs keeps a quiet stream.
import t from 'tap';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { Flag, FrameType, clientOpening, frame, rawH2Exchange, requestHeaders } from '../helpers/h2-frames.js';
import { accessLines, startPartialUpstream, waitFor } from './lib/raw.js';
import { connectH2 } from '../helpers/h2-client.js';

t.test('a silent HTTP/2 peer with an open stream is cut; a live one is kept', async (t) => {
  const pki = makeTestPki();
  const upstream = await startPartialUpstream();
  // Without the session's own bound, only --upstream-timeout (30 s here) would end such a connection.
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { idleTimeoutMs: 1000, upstreamTimeoutMs: 30_000 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const linesOf = (id: string): Array<Record<string, unknown>> =>
    accessLines(proxy.logLines()).filter((l) => l.requestId === id);

  // A POST whose body stops after 5 bytes, from a peer that then never sends a frame (nor acknowledges a PING) nor
  // closes.
  const flight = Buffer.concat([
    clientOpening(),
    frame(FrameType.HEADERS, Flag.END_HEADERS, 1, requestHeaders('POST', '/silent', [['x-request-id', 'silent-peer']])),
    frame(FrameType.DATA, 0, 1, Buffer.from('start')),
  ]);
  upstream.mode['/silent'] = 'hold';
  const started = Date.now();
  const silent = rawH2Exchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    flight,
    timeoutMs: 20_000,
  });
  t.ok(
    await waitFor(() => upstream.seen.some((r) => r.requestId === 'silent-peer'), 10_000),
    'the request reached the upstream',
  );
  const result = await silent;
  // Generous bound for a busy machine; the old behaviour held it until --upstream-timeout (30 s).
  t.ok(
    result.closedByServer && Date.now() - started < 20_000,
    `the proxy closed the connection (after ${Date.now() - started} ms)`,
  );
  t.ok(result.types.includes(FrameType.PING), 'after a PING that went unanswered');
  t.ok(
    await waitFor(() => upstream.seen.find((r) => r.requestId === 'silent-peer')?.state === 'aborted', 10_000),
    'the upstream request was stopped',
  );
  t.ok(await waitFor(() => linesOf('silent-peer').length > 0, 10_000), 'and logged');
  t.match(linesOf('silent-peer'), [{ status: 499, decision: 'allow', path: '/silent' }], 'once, as 499');

  // A real client answers PINGs: its stream stays open through several idle periods, then completes.
  upstream.mode['/quiet'] = 'hold';
  const session = connectH2(proxy.port, pki.ca.certPem, pki.client);
  t.teardown(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/quiet', 'x-request-id': 'quiet-live' });
  let status = 0;
  stream.on('response', (h) => {
    status = Number(h[':status']);
  });
  const body = new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  stream.on('error', () => undefined);
  let pings = 0;
  session.on('ping', () => {
    pings += 1;
  });
  t.ok(await waitFor(() => pings >= 2, 15_000), 'the proxy checked the quiet connection at least twice');
  t.notOk(stream.closed, 'and kept the stream of a peer that answers');
  stream.end('late body');
  t.ok(
    await waitFor(() => upstream.seen.find((r) => r.requestId === 'quiet-live')?.state === 'complete', 10_000),
    'the body arrived upstream',
  );
  upstream.release();
  t.equal(await body, 'upstream-ok /quiet');
  t.equal(status, 200);
});
