// A real TLS handshake on 127.0.0.1 with certs init material: both sides see the other as authorized.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makeTmpDir, removeDir } from '../helpers/pki.js';
import { runCertsInit } from './run-certs-init.js';

const dir = makeTmpDir('devcerts-tls-');
t.teardown(() => removeDir(dir));
await runCertsInit(dir, { clients: ['caller'], uris: ['spiffe://example.org/ns/test/sa/caller'] });
const read = (n: string): Buffer => readFileSync(join(dir, n));

const serverSide = new Promise<{ authorized: boolean; cn: unknown; uri: unknown }>((resolve, reject) => {
  const server = tls.createServer(
    {
      cert: read('server.crt'),
      key: read('server.key'),
      ca: read('ca.crt'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      resolve({ authorized: socket.authorized, cn: peer?.subject, uri: peer?.subjectAltName });
      socket.end('hello');
    },
  );
  server.on('tlsClientError', reject);
  t.teardown(() => new Promise<void>((done) => server.close(() => done())));
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    const client = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: read('ca.crt'),
      cert: read('caller.crt'),
      key: read('caller.key'),
    });
    client.setTimeout(10_000, () => client.destroy(new Error('handshake timed out')));
    client.on('secureConnect', () => {
      t.equal(client.authorized, true, `client authorized the server (${String(client.authorizationError ?? 'ok')})`);
    });
    // A failed handshake must end the test, not leave it waiting for a server callback that never comes.
    client.on('error', reject);
    client.resume();
  });
});

const seen = await serverSide;
t.equal(seen.authorized, true, 'server authorized the client certificate');
t.match(String(seen.cn), 'CN=caller');
t.match(String(seen.uri), 'URI:spiffe://example.org/ns/test/sa/caller');
