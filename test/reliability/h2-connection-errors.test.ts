// HTTP/2 connection errors sent right behind a request, and HTTP/2.0 request lines over HTTP/1, by the hundred against
// the built proxy: fds, CLOSE-WAIT sockets and RSS come back to baseline soon after --idle-timeout, with exactly one
// access line per request the upstream ran.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rawTlsExchange } from '../helpers/gate-harness.js';
import { CONNECTION_ERRORS, connectionErrorFlight, rawH2Exchange } from '../helpers/h2-frames.js';
import { makeLeaf } from '../helpers/pki.js';
import { processStats, proxyArgs, startProxyProcess, waitFor } from '../soak/lib/processes.mjs';
import { runBounded } from './lib/abuse.js';
import { ALLOW_PROD, clientTls, formatKb, makeReliabilityPki, scaled } from './lib/fixture.js';
import { heldConnections, socketStatesOnPort } from './lib/proc-net.js';

const IDLE_MS = 1500;
/** How the client leaves after its flight: half-close, drop the connection, or stay until the proxy closes it. */
const ENDINGS = ['end', 'destroy', 'hold'] as const;
const LINES: Array<(id: string) => string> = [
  (id) => `GET /line HTTP/2.0\r\nHost: localhost\r\nX-Request-Id: ${id}\r\n\r\n`,
  (id) =>
    `POST /pkg.Svc/Call HTTP/2.0\r\nHost: localhost\r\nContent-Type: application/grpc\r\nX-Request-Id: ${id}\r\n\r\n`,
  (id) => `POST /upload HTTP/2.0\r\nHost: localhost\r\nContent-Length: 100\r\nX-Request-Id: ${id}\r\n\r\nabc`,
  (id) => `GET /line HTTP/2.0\r\nX-Request-Id: ${id}\r\n\r\n`,
  (id) => `GET /line HTTP/0.9\r\nHost: localhost\r\nX-Request-Id: ${id}\r\n\r\n`,
];

/**
 * An upstream that counts each request id it runs and the requests still in progress, and closes every connection
 * after answering.
 */
async function startCountingUpstream(): Promise<{
  url: string;
  port: number;
  seen: Map<string, number>;
  inProgress(): number;
  close(): Promise<void>;
}> {
  const seen = new Map<string, number>();
  let inProgress = 0;
  const server = http.createServer((req, res) => {
    const id = String(req.headers['x-request-id'] ?? '');
    seen.set(id, (seen.get(id) ?? 0) + 1);
    inProgress += 1;
    res.once('close', () => {
      inProgress -= 1;
    });
    req.resume();
    req.on('end', () => res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' }).end('ok'));
    req.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    inProgress: () => inProgress,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

t.test('connection errors and foreign request lines leave nothing behind', async (t) => {
  const pki = makeReliabilityPki();
  const outsider = makeLeaf(pki.dir, 'outsider', pki.ca, {
    subject: '/CN=outsider',
    san: ['URI:spiffe://example.org/ns/dev/sa/outsider'],
  });
  const upstream = await startCountingUpstream();
  const proxy = await startProxyProcess({
    args: proxyArgs({
      upstream: upstream.url,
      cert: pki.server.cert,
      key: pki.server.key,
      clientCa: pki.ca.cert,
      extra: [...ALLOW_PROD, '--idle-timeout', `${IDLE_MS}ms`, '--log-level', 'info'],
    }),
  });
  t.teardown(async () => {
    await proxy.stop('SIGKILL', 2000);
    await upstream.close();
    pki.cleanup();
  });
  const port = proxy.port;
  const auth = clientTls(pki);
  const held = (): number => heldConnections(port);

  // Warm every path once (HTTP/2 and HTTP/1.1 forwarding, a refusal) so lazily loaded code is in the baseline.
  for (const kind of Object.keys(CONNECTION_ERRORS))
    await rawH2Exchange({
      port,
      ...auth,
      flight: connectionErrorFlight(kind, '/warm', `warm-${kind}`),
      endAfter: true,
      timeoutMs: 10_000,
    });
  await rawTlsExchange({
    port,
    ...auth,
    payload: 'GET /warm HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    timeoutMs: 10_000,
  });
  await rawTlsExchange({ port, ...auth, payload: LINES[0]!('warm-line'), timeoutMs: 10_000 });
  // Connections the proxy's upstream pool keeps open between requests (closed after undici's keep-alive timeout).
  const pooled = (): number => socketStatesOnPort(upstream.port, 'remote').ESTABLISHED ?? 0;
  t.ok(await waitFor(() => held() === 0 && pooled() === 0, 60_000), 'warm-up connections all closed');
  const base = processStats(proxy.pid);
  t.comment(
    `baseline: ${base.fds} fds, RSS ${formatKb(base.rssKb)}, sockets ${JSON.stringify(socketStatesOnPort(port))}`,
  );

  // Every trigger × every way of leaving, from the authorized caller and from one the allowlist refuses.
  const kinds = Object.keys(CONNECTION_ERRORS);
  const perCombo = scaled(10);
  const jobs: Array<{ id: string; kind: string; ending: (typeof ENDINGS)[number]; refused: boolean }> = [];
  for (const kind of kinds) {
    for (const ending of ENDINGS) {
      for (let i = 0; i < perCombo; i += 1)
        jobs.push({ id: `e-${kind}-${ending}-${i}`, kind, ending, refused: i % 5 === 4 });
    }
  }
  const lineJobs = Array.from({ length: scaled(100) }, (_v, i) => ({
    id: `l-${i}`,
    payload: LINES[i % LINES.length]!(`l-${i}`),
  }));
  let peak = { fds: 0, held: 0 };
  const sample = setInterval(() => {
    try {
      peak = { fds: Math.max(peak.fds, processStats(proxy.pid).fds), held: Math.max(peak.held, held()) };
    } catch {
      /* the process is gone: asserted below */
    }
  }, 100);
  t.teardown(() => clearInterval(sample));

  const lineAnswers = await Promise.all([
    runBounded(jobs.length, 40, async (i) => {
      const j = jobs[i]!;
      const who = j.refused ? { ca: pki.caPem, cert: outsider.certPem, key: outsider.keyPem } : auth;
      return rawH2Exchange({
        port,
        ...who,
        flight: connectionErrorFlight(j.kind, '/h2-error', j.id),
        endAfter: j.ending === 'end',
        destroyAfterMs: j.ending === 'destroy' ? 50 : undefined,
        timeoutMs: 30_000,
      });
    }),
    runBounded(lineJobs.length, 20, (i) =>
      rawTlsExchange({ port, ...auth, payload: lineJobs[i]!.payload, timeoutMs: 30_000 }),
    ),
  ]).then(([, lines]) => lines);
  const loadEnded = Date.now();
  t.comment(
    `${jobs.length} connection-error connections and ${lineJobs.length} HTTP/2.0/0.9 lines sent; peak ${peak.fds} fds, ${peak.held} sockets held`,
  );
  t.ok(
    lineAnswers.every((r) => r.received.startsWith('HTTP/1.1 400 ')),
    'every foreign request line was answered 400',
  );

  // Bounded polls: the proxy's own timers must bring everything back; generous for a busy machine. Caller
  // connections go within --idle-timeout and a short grace; an upstream connection whose request was stopped before
  // it was written may stay in the pool until undici's keep-alive timeout (30 s), idle.
  const settled = await waitFor(
    () => held() === 0 && upstream.inProgress() === 0 && processStats(proxy.pid).fds <= base.fds + pooled(),
    30_000,
    100,
  );
  const states = socketStatesOnPort(port);
  const mid = processStats(proxy.pid);
  t.comment(
    `after ${Date.now() - loadEnded} ms: ${mid.fds} fds with ${pooled()} idle upstream connections, RSS ${formatKb(mid.rssKb)}, sockets ${JSON.stringify(states)} (--idle-timeout ${IDLE_MS} ms)`,
  );
  t.ok(settled, 'every caller connection closed by the proxy, no upstream request left in progress');
  t.equal(states.CLOSE_WAIT ?? 0, 0, 'no socket left in CLOSE-WAIT');
  t.equal(states.ESTABLISHED ?? 0, 0, 'no client connection left open');
  t.ok(
    await waitFor(() => processStats(proxy.pid).fds <= base.fds, 60_000, 200),
    'fds back at baseline once the idle upstream connections expired',
  );
  const after = processStats(proxy.pid);
  t.comment(`after ${Date.now() - loadEnded} ms: ${after.fds} fds (baseline ${base.fds})`);
  // RSS does not shrink to the byte; a leak of these connections grows without bound, this bound does not.
  t.ok(
    after.rssKb <= base.rssKb + 48 * 1024,
    `RSS back near baseline (${formatKb(base.rssKb)} → ${formatKb(after.rssKb)})`,
  );
  t.ok(proxy.alive(), 'the proxy is still running');

  // Audit: one access line per exchange the upstream ran, none for the same request twice.
  const ours = new Set([...jobs.map((j) => j.id), ...lineJobs.map((j) => j.id)]);
  t.ok(
    await waitFor(
      () =>
        [...upstream.seen.keys()]
          .filter((id) => ours.has(id))
          .every((id) => proxy.logLines().some((l) => l.msg === 'access' && l.requestId === id)),
      10_000,
    ),
    'every exchange the upstream ran is logged',
  );
  // Access lines are written in batches (at least once a second): wait for the foreign lines' ones too.
  const lineIds = new Set(lineJobs.map((j) => j.id));
  await waitFor(
    () =>
      proxy.logLines().filter((l) => l.msg === 'access' && lineIds.has(String(l.requestId))).length >= lineJobs.length,
    10_000,
  );
  const lines = proxy.logLines().filter((l) => l.msg === 'access' && ours.has(String(l.requestId)));
  const perId = new Map<string, number>();
  for (const l of lines) perId.set(String(l.requestId), (perId.get(String(l.requestId)) ?? 0) + 1);
  const ran = [...upstream.seen.entries()].filter(([id]) => ours.has(id));
  t.same(
    ran.filter(([, n]) => n !== 1),
    [],
    'the upstream ran each request at most once',
  );
  t.same(
    [...perId.entries()].filter(([, n]) => n !== 1),
    [],
    'no request logged twice',
  );
  t.same(
    ran.filter(([id]) => perId.get(id) !== 1).map(([id]) => id),
    [],
    'exactly one access line per upstream exchange',
  );
  t.same(
    lineJobs.filter((j) => upstream.seen.has(j.id)).map((j) => j.id),
    [],
    'no foreign request line reached the upstream',
  );
  t.same(
    jobs.filter((j) => j.refused && upstream.seen.has(j.id)).map((j) => j.id),
    [],
    'no request of the refused caller reached the upstream',
  );
  const lineLines = lines.filter((l) => String(l.requestId).startsWith('l-'));
  t.equal(lineLines.length, lineJobs.length, 'each foreign request line logged once');
  t.ok(
    lineLines.every((l) => l.status === 400 && l.decision === 'bad_request'),
    'as 400 bad_request',
  );
  t.comment(
    `upstream ran ${ran.length} of ${jobs.length} connection-error requests; ${lines.length} access lines for ${ours.size} requests`,
  );
});
