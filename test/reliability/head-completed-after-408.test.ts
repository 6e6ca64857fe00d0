// A head still incomplete at --headers-timeout is answered 408; if its rest is already on the wire when the busy proxy
// wakes, that request is never forwarded: the caller was told it was not processed, so the upstream must not see it.
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import t from 'tap';
import { proxyArgs, startProxyProcess, waitFor } from '../soak/lib/processes.mjs';
import { ALLOW_PROD, clientTls, makeReliabilityPki } from './lib/fixture.js';
import { unreadBytes } from './lib/proc-net.js';
import { startStrictUpstream } from './lib/strict-upstream.js';

const HEADERS_TIMEOUT_MS = 1000;
/** On waking, the proxy may read the bytes before its timeout check runs (then the request is simply answered). */
const MAX_ROUNDS = 12;
const WANTED_TIMEOUTS = 3;

for (const [kind, lateHeaders] of [
  ['request', 'X-Late: 1\r\n'],
  [
    'WebSocket upgrade',
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
  ],
] as const)
  t.test(`the rest of a ${kind} head that arrives while the proxy is stopped past its headers timeout`, async (t) => {
    const pki = makeReliabilityPki();
    const upstream = await startStrictUpstream();
    const proxy = await startProxyProcess({
      args: proxyArgs({
        upstream: upstream.url,
        cert: pki.server.cert,
        key: pki.server.key,
        clientCa: pki.ca.cert,
        extra: [...ALLOW_PROD, '--headers-timeout', `${HEADERS_TIMEOUT_MS}ms`],
      }),
    });
    t.teardown(async () => {
      process.kill(proxy.pid!, 'SIGCONT');
      await proxy.stop('SIGKILL', 2000);
      await upstream.close();
      pki.cleanup();
    });
    const timedOut: number[] = [];
    const answered: number[] = [];
    for (let round = 0; round < MAX_ROUNDS && timedOut.length < WANTED_TIMEOUTS; round++) {
      const received: Buffer[] = [];
      const s = tls.connect({
        host: '127.0.0.1',
        port: proxy.port,
        servername: 'localhost',
        ALPNProtocols: ['http/1.1'],
        ...clientTls(pki),
      });
      s.on('data', (c: Buffer) => received.push(c));
      s.on('error', () => undefined);
      let closed = false;
      s.once('close', () => {
        closed = true;
      });
      const statusesSoFar = (): number[] =>
        [
          ...Buffer.concat(received)
            .toString('latin1')
            .matchAll(/HTTP\/1\.1 (\d{3}) /g),
        ].map((m) => Number(m[1]));
      await new Promise<void>((resolve) => s.once('secureConnect', () => resolve()));
      const proxySide = (): number | undefined => unreadBytes(proxy.port, s.localPort!);
      s.setNoDelay(true);
      // A first request answered: the connection is past its TLS gate and Node's HTTP/1.1 parser reads it directly.
      s.write(`GET /ready/${round} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      t.ok(
        await waitFor(() => Buffer.concat(received).toString('latin1').includes('upstream-ok'), 10_000),
        `round ${round}: the first request was answered`,
      );
      s.write(`GET /late/${round} HTTP/1.1\r\nHost: localhost\r\n`);
      // The proxy has parsed the start of the second head (its headers timer runs) once the kernel holds nothing
      // unread.
      t.ok(await waitFor(() => proxySide() === 0, 10_000), `round ${round}: the proxy read the start of the head`);
      process.kill(proxy.pid!, 'SIGSTOP');
      s.write(lateHeaders);
      s.write('\r\n');
      t.ok(
        await waitFor(() => (proxySide() ?? 0) > 0, 10_000),
        `round ${round}: the rest of the head waits in the stopped proxy's socket`,
      );
      // Stopped past the headers timeout and its check interval: on waking, the check and the bytes meet.
      await delay(HEADERS_TIMEOUT_MS * 1.5);
      process.kill(proxy.pid!, 'SIGCONT');
      await waitFor(() => closed || statusesSoFar().length >= 2, 15_000);
      const statuses = statusesSoFar();
      if (statuses[1] === 408) {
        const closedByProxy = await waitFor(() => closed, 10_000);
        timedOut.push(round);
        t.same(statuses, [200, 408], `round ${round}: the second request timed out, and no other answer came`);
        t.ok(closedByProxy, `round ${round}: the proxy closed the connection`);
        s.destroy();
      } else {
        s.destroy();
        answered.push(round);
        // Read in time, the late head is an ordinary request (the upstream's view is checked below).
        if (kind === 'request')
          t.same(
            statuses,
            [200, 200],
            `round ${round}: the proxy read the rest before its timeout check: both answered`,
          );
        else
          t.equal(
            statuses[0],
            200,
            `round ${round}: the proxy read the rest before its timeout check: the first answered`,
          );
      }
    }
    t.comment(`rounds timed out: ${timedOut.join(', ') || 'none'}; answered in time: ${answered.join(', ') || 'none'}`);
    t.ok(timedOut.length > 0, 'the timeout met the rest of a head at least once');
    // The proxy forwards on its own schedule: give a late forward every chance to show before asserting its absence.
    await delay(500);
    const forwarded = new Set(upstream.requests.map((r) => r.target));
    t.same(
      timedOut.filter((round) => forwarded.has(`/late/${round}`)),
      [],
      'the upstream never received a request the caller was told timed out',
    );
    t.same(
      answered.filter((round) => !forwarded.has(`/late/${round}`)),
      [],
      'every second request answered in time came from the upstream',
    );
    t.equal(upstream.abortedPartials, 0, 'nor the start of one');
  });
