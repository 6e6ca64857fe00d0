// Bounded loops of full TLS handshakes from Node clients (no session reuse), for memory and soak checks.
import tls from 'node:tls';

function oneConnection({ port, secureContext, request, timeoutMs, maxVersion }) {
  return new Promise((resolve) => {
    let secured = false;
    let status = 0;
    let error;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext, maxVersion });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('secureConnect', () => {
      secured = true;
      if (request) socket.write('GET /handshake-loop HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    let head = '';
    socket.on('data', (c) => {
      if (head.length < 32) head += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) status = Number(m[1]);
    });
    socket.on('error', (e) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ secured, status, error });
    });
  });
}

/**
 * `count` connections (or until `signal` aborts), `concurrency` at a time, each a full handshake; with `request`,
 * one GET per connection (Connection: close). Resolves with counts: handshakes the client saw complete, HTTP statuses,
 * client-side errors.
 */
export async function runHandshakes({
  port,
  ca,
  cert,
  key,
  count,
  concurrency = 8,
  request = false,
  timeoutMs = 15_000,
  maxVersion,
  signal,
}) {
  const result = { done: 0, secured: 0, statuses: {}, errors: {} };
  // One context for all connections: parsing a long chain's PEM per connection would cost the client more than the
  // handshake.
  const secureContext = tls.createSecureContext({ ca, cert, key });
  let next = 0;
  const loop = async () => {
    while (next < count && signal?.aborted !== true) {
      next += 1;
      const r = await oneConnection({ port, secureContext, request, timeoutMs, maxVersion });
      result.done += 1;
      if (r.secured) result.secured += 1;
      if (r.status) result.statuses[r.status] = (result.statuses[r.status] ?? 0) + 1;
      if (r.error) result.errors[r.error] = (result.errors[r.error] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return result;
}
