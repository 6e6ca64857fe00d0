// An HTTP/1.1 upstream that counts the TCP connections it accepted and the requests it began (its own view, the oracle
// of the pool and reset tests), answering after a delay.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** An upstream that counts the TCP connections it accepted and the requests it began, and answers slowly. */
export async function startCountingUpstream(delayMs: number) {
  const counts = { connections: 0, requests: 0, open: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    counts.requests += 1;
    req.resume();
    const timer = setTimeout(() => res.end('late'), delayMs);
    res.once('close', () => clearTimeout(timer));
  });
  server.on('connection', (s: Socket) => {
    counts.connections += 1;
    counts.open += 1;
    sockets.add(s);
    s.once('close', () => {
      counts.open -= 1;
      sockets.delete(s);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
