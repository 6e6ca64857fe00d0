// The leaf the gate reads from a server-side TLS session is the certificate openssl finds in that session
// (`openssl sess_id -cert`), for TLS 1.2 and 1.3; a session without a peer, or bytes that are no session, give none.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls, { type SecureVersion } from 'node:tls';
import t from 'tap';
import { peerCertificateOfSession } from '../../src/gate/session-leaf.js';
import { makeTestPki } from '../helpers/gate-harness.js';
import { openssl } from '../helpers/pki.js';

/** The session the server made for one handshake from the test client (with or without a client certificate). */
async function serverSession(
  pki: ReturnType<typeof makeTestPki>,
  version: SecureVersion,
  withCert: boolean,
): Promise<Buffer> {
  let resolveSession!: (s: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolveSession = r));
  const server = tls.createServer(
    { cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: withCert },
    (socket) => {
      resolveSession(socket.getSession()!);
      socket.end();
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: 'localhost',
    ca: pki.ca.certPem,
    ...(withCert ? { cert: pki.client.certPem, key: pki.client.keyPem } : {}),
    minVersion: version,
    maxVersion: version,
  });
  client.on('data', () => undefined);
  client.on('error', () => undefined);
  const session = await got;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return session;
}

/** The peer certificate openssl reads from the session, as PEM; null when openssl finds none. */
function opensslPeerOf(dir: string, session: Buffer): string | null {
  const file = join(dir, 'session.der');
  writeFileSync(file, session);
  const out = openssl(['sess_id', '-inform', 'DER', '-in', file, '-cert']);
  const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/.exec(out);
  return pem === null ? null : pem[0];
}

function pemOf(der: Buffer | null): string | null {
  if (der === null) return null;
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

t.test('the peer certificate of a server-side session', async (t) => {
  const pki = makeTestPki();
  t.teardown(() => pki.cleanup());
  const clientPem = openssl(['x509', '-in', pki.client.cert]);
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const session = await serverSession(pki, version, true);
    const leaf = peerCertificateOfSession(session);
    t.ok(leaf, `${version}: a leaf found`);
    t.equal(pemOf(leaf), opensslPeerOf(pki.dir, session), `${version}: the certificate openssl finds in the session`);
    t.equal(pemOf(leaf), clientPem, `${version}: the client's certificate`);

    const anonymous = await serverSession(pki, version, false);
    t.equal(opensslPeerOf(pki.dir, anonymous), null, `${version}: openssl finds no peer in a session without one`);
    t.equal(peerCertificateOfSession(anonymous), null, `${version}: none found either`);

    t.equal(peerCertificateOfSession(session.subarray(0, session.length - 5)), null, `${version}: truncated: none`);
  }
  t.equal(peerCertificateOfSession(Buffer.from('not a session')), null, 'junk: none');
  const clientDer = Buffer.from(clientPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  t.equal(peerCertificateOfSession(clientDer), null, 'a certificate is not a session: none');
});
