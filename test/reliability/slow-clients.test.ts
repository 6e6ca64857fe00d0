// Slow clients: partial handshakes, slow headers, stalled and trickled bodies, idle keep-alives are cut off at their
// timeouts while authorized traffic flows.
import t from 'tap';
import { runLoad } from '../soak/lib/load-client.mjs';
import { captureClientHello, rawAttempt, trickleTls } from './lib/abuse.js';
import { clientTls, makeReliabilityPki, startStack, stopStack } from './lib/fixture.js';

const HANDSHAKE_MS = 1000;
const HEADERS_MS = 1000;
const IDLE_MS = 1500;
// Far from the others, so a cut at this time is told apart from the timeouts under test.
const UPSTREAM_MS = 10_000;
// Whole-request deadline for a body that keeps trickling (never idle long enough for --idle-timeout).
const REQUEST_MS = 4000;

t.test('slow clients are cut off at --handshake-timeout, --headers-timeout and --idle-timeout', async (t) => {
  const pki = makeReliabilityPki();
  const stack = await startStack(pki, [
    '--handshake-timeout',
    `${HANDSHAKE_MS}ms`,
    '--headers-timeout',
    `${HEADERS_MS}ms`,
    '--idle-timeout',
    `${IDLE_MS}ms`,
    '--upstream-timeout',
    `${UPSTREAM_MS}ms`,
    '--request-timeout',
    `${REQUEST_MS}ms`,
  ]);
  t.teardown(async () => {
    await stopStack(stack);
    pki.cleanup();
  });
  const port = stack.proxy.port;
  const auth = clientTls(pki);
  const hello = await captureClientHello();
  const stop = new AbortController();
  // Authorized keep-alive traffic (never idle, so never cut) runs throughout.
  const authorized = runLoad({ port, ...auth, connections: 2, signal: stop.signal, firstId: 1_000_000 });

  const within = (ms: number | null, lo: number, hi: number, what: string, todo?: string): void => {
    t.ok(
      ms !== null && ms >= lo && ms <= hi,
      `${what}: closed by the proxy after ${ms ?? 'never'} ms (expected ${lo}-${hi} ms)`,
      todo ? { todo } : {},
    );
  };
  const cases = await Promise.all([
    rawAttempt({ port, bytes: Buffer.alloc(0), mode: 'wait-for-close', timeoutMs: 8000 }),
    rawAttempt({ port, bytes: hello.subarray(0, 40), mode: 'wait-for-close', timeoutMs: 8000 }),
    // A complete ClientHello whose client never sends its second flight.
    rawAttempt({ port, bytes: hello, mode: 'wait-for-close', timeoutMs: 8000 }),
    trickleTls({
      port,
      ...auth,
      first: 'GET /load/1 HTTP/1.1\r\nHost: localhost\r\n',
      drip: 'X-Slow: y\r\n',
      everyMs: 200,
      maxMs: 8000,
    }),
    trickleTls({
      port,
      ...auth,
      first: 'POST /load/2 HTTP/1.1\r\nHost: localhost\r\nx-token: 2\r\nContent-Length: 100000\r\n\r\nabc',
      drip: '',
      everyMs: 0,
      maxMs: 8000,
    }),
    trickleTls({
      port,
      ...auth,
      first: 'GET /load/3 HTTP/1.1\r\nHost: localhost\r\nx-token: 3\r\n\r\n',
      drip: '',
      everyMs: 0,
      maxMs: 8000,
    }),
    // A body that keeps trickling is never idle; only a whole-request deadline can end it.
    trickleTls({
      port,
      ...auth,
      first: 'POST /load/4 HTTP/1.1\r\nHost: localhost\r\nx-token: 4\r\nContent-Length: 100000\r\n\r\n',
      drip: 'z',
      everyMs: 300,
      maxMs: 8000,
    }),
  ]);
  const [tcpOnly, partialHello, stalledHandshake, slowHeaders, stalledBody, idle, trickledBody] = cases;
  within(tcpOnly!.closedByServerAfterMs, HANDSHAKE_MS * 0.8, HANDSHAKE_MS + 1500, 'TCP connect, no ClientHello');
  within(partialHello!.closedByServerAfterMs, HANDSHAKE_MS * 0.8, HANDSHAKE_MS + 1500, 'partial ClientHello');
  within(stalledHandshake!.closedByServerAfterMs, HANDSHAKE_MS * 0.8, HANDSHAKE_MS + 1500, 'handshake never finished');
  within(
    slowHeaders!.closedByServerAfterMs,
    HEADERS_MS * 0.8,
    HEADERS_MS + 1500,
    'headers trickled one line per 200 ms',
  );
  t.notMatch(slowHeaders!.received, /^HTTP\/1\.1 [23]/, 'the slow-header request was never answered with success');
  within(stalledBody!.closedByServerAfterMs, IDLE_MS * 0.8, IDLE_MS + 2000, 'body stalled after 3 of 100000 bytes');
  // Node's HTTP/1.1 server keeps a keep-alive socket up to 1 s past keepAliveTimeout (its race buffer).
  within(idle!.closedByServerAfterMs, IDLE_MS * 0.8, IDLE_MS + 2000, 'idle keep-alive after one answered request');
  t.match(idle!.received, /^HTTP\/1\.1 200 /, 'the idle connection had its request answered first');

  within(
    trickledBody!.closedByServerAfterMs,
    REQUEST_MS * 0.8,
    REQUEST_MS + 2000,
    `body trickled 1 byte per 300 ms is cut at --request-timeout (after ${trickledBody!.closedByServerAfterMs ?? 'never (8 s)'} ms)`,
  );

  stop.abort();
  const { report } = await authorized;
  t.ok(report.sent > 50, `authorized traffic kept flowing (${report.sent} requests)`);
  t.same(report.byStatus, { 200: report.sent }, 'authorized traffic unaffected: every request 200');
  t.equal(report.lost + report.truncated + report.mismatched, 0);
  t.same(await stack.upstream.ids(1, 2), [], 'the request with slow headers never reached the upstream');
  t.ok(stack.proxy.alive());
});
