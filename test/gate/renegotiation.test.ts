// Client-initiated renegotiation (TLS 1.2) is refused: the renegotiation never completes and nothing is forwarded by
// it.
import t from 'tap';
import tls from 'node:tls';
import { startGateStack } from '../helpers/gate-harness.js';

t.test('renegotiation is refused', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const socket = tls.connect({
    host: '127.0.0.1',
    port: proxy.port,
    servername: 'localhost',
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    maxVersion: 'TLSv1.2',
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const outcome = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 3000);
    const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => {
      clearTimeout(timer);
      resolve(err ? `refused: ${err.message}` : 'renegotiated');
    });
    if (!started) resolve('refused: not started');
    socket.once('close', () => resolve('refused: closed'));
  });
  t.match(outcome, /^(refused|timeout)/, `renegotiation did not complete (${outcome})`);
  t.not(outcome, 'renegotiated');
  socket.destroy();
  t.equal(upstream.received.length, 0);
});
