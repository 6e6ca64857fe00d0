// Stalled uploads from one authorized caller must not starve other requests of upstream connections.
import t from 'tap';
import tls from 'node:tls';
import { trickleTls } from './lib/abuse.js';
import { waitFor } from '../soak/lib/processes.mjs';
import { clientTls, makeReliabilityPki, startStack, stopStack } from './lib/fixture.js';

// The proxy's HTTP/1.1 upstream pool is --upstream-max-connections; the stalled uploads outnumber it, so they would
// hold every pooled connection if nothing cut them off.
const UPSTREAM_POOL = 128;
const STALLED = UPSTREAM_POOL + 12;

t.test(`${STALLED} stalled request bodies do not block a normal request`, async (t) => {
  const pki = makeReliabilityPki();
  const stack = await startStack(pki, [
    '--idle-timeout',
    '2s',
    '--upstream-timeout',
    '3s',
    '--headers-timeout',
    '2s',
    '--upstream-max-connections',
    String(UPSTREAM_POOL),
  ]);
  const sockets: tls.TLSSocket[] = [];
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await stopStack(stack);
    pki.cleanup();
  });
  const auth = clientTls(pki);
  await Promise.all(
    Array.from(
      { length: STALLED },
      (_, i) =>
        new Promise<void>((resolve) => {
          const s = tls.connect({ host: '127.0.0.1', port: stack.proxy.port, servername: 'localhost', ...auth }, () => {
            s.write(
              `POST /load/${i} HTTP/1.1\r\nHost: localhost\r\nx-token: ${i}\r\nContent-Length: 100000\r\n\r\nabc`,
            );
            resolve();
          });
          s.on('error', () => resolve());
          sockets.push(s);
        }),
    ),
  );
  // Every pooled upstream connection is taken by a stalled upload (the upstream's own count) before the normal request.
  const stalledAt = Date.now();
  t.ok(
    await waitFor(async () => (await stack.upstream.summary()).received >= UPSTREAM_POOL, 15_000, 50),
    `the stalled uploads took all ${UPSTREAM_POOL} upstream connections`,
  );
  const started = Date.now();
  const normal = await trickleTls({
    port: stack.proxy.port,
    ...auth,
    first: 'GET /load/99999 HTTP/1.1\r\nHost: localhost\r\nx-token: 99999\r\n\r\n',
    drip: '',
    everyMs: 0,
    maxMs: 6000,
  });
  const answered = /^HTTP\/1\.1 200 /.test(normal.received);
  t.ok(
    answered,
    `a normal request is answered while ${STALLED} uploads stall (${answered ? `${Date.now() - started} ms` : 'no answer in 6 s'})`,
  );
  // Cut off by --idle-timeout (2 s) or --upstream-timeout (3 s): all of them within 9 s of stalling, as before.
  const open = (): number => sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  await waitFor(() => open() === 0, Math.max(0, stalledAt + 9000 - Date.now()), 50);
  const stillOpen = open();
  t.equal(
    stillOpen,
    0,
    `stalled uploads were cut off (${stillOpen} of ${STALLED} still open after ${Date.now() - stalledAt} ms)`,
  );
  t.ok(stack.proxy.alive());
});
