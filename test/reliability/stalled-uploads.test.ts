// Stalled uploads from one authorized caller must not starve other requests of upstream connections.
import t from 'tap';
import tls from 'node:tls';
import { trickleTls } from './lib/abuse.js';
import { clientTls, makeReliabilityPki, startStack, stopStack } from './lib/fixture.js';

// More than the proxy's upstream pool (128 connections in src/server/upstream.ts).
const STALLED = 140;

t.test(`${STALLED} stalled request bodies do not block a normal request`, async (t) => {
  const pki = makeReliabilityPki();
  const stack = await startStack(pki, ['--idle-timeout', '2s', '--upstream-timeout', '3s', '--headers-timeout', '2s']);
  const sockets: tls.TLSSocket[] = [];
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await stopStack(stack);
    pki.cleanup();
  });
  const auth = clientTls(pki);
  await Promise.all(
    Array.from({ length: STALLED }, (_, i) => new Promise<void>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: stack.proxy.port, servername: 'localhost', ...auth }, () => {
        s.write(`POST /load/${i} HTTP/1.1\r\nHost: localhost\r\nx-token: ${i}\r\nContent-Length: 100000\r\n\r\nabc`);
        resolve();
      });
      s.on('error', () => resolve());
      sockets.push(s);
    })),
  );
  // Let them all reach the upstream, then wait past the idle timeout.
  await new Promise((r) => setTimeout(r, 3000));
  const started = Date.now();
  const normal = await trickleTls({ port: stack.proxy.port, ...auth, first: 'GET /load/99999 HTTP/1.1\r\nHost: localhost\r\nx-token: 99999\r\n\r\n', drip: '', everyMs: 0, maxMs: 6000 });
  const answered = /^HTTP\/1\.1 200 /.test(normal.received);
  t.ok(answered, `a normal request is answered while ${STALLED} uploads stall (${answered ? `${Date.now() - started} ms` : 'no answer in 6 s'})`);
  const stillOpen = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  t.equal(stillOpen, 0, `stalled uploads were cut off (${stillOpen} of ${STALLED} still open after ${Date.now() - started + 3000} ms)`);
  t.ok(stack.proxy.alive());
});
