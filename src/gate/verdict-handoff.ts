// Lets OpenSSL refuse a client without a certificate inside the handshake (so the client gets an alert) while every
// other verdict stays with the connection gate.
import type { Server as TlsServer, TLSSocket } from 'node:tls';

type HandoffSocket = TLSSocket & { _rejectUnauthorized?: boolean };

/**
 * The server runs with `rejectUnauthorized: true`, which makes OpenSSL demand a certificate in the handshake
 * (SSL_VERIFY_FAIL_IF_NO_PEER_CERT): a client without one gets `certificate_required` (TLS 1.3) or
 * `handshake_failure` (TLS 1.2) instead of a bare reset. Node's verify callback accepts every chain, so any other
 * verdict is only known after the handshake, where Node would destroy the socket itself and lose the reason; this
 * hands that verdict to the gate per socket, during the handshake (Node emits keylog before `secure`, and reads
 * `_rejectUnauthorized` only there; tested for Node 24 in test/gate/handshake-alerts.test.ts). If Node ever stops
 * honouring it, Node destroys unverified sockets itself: fail closed, the reason taken from authorizationError.
 * The keylog lines are never kept or logged.
 */
export function keepVerdictsInGate(server: TlsServer): { stop(): void } {
  const onKeylog = (_line: Buffer, socket: HandoffSocket): void => {
    socket._rejectUnauthorized = false;
  };
  server.on('keylog', onKeylog);
  return { stop: () => server.removeListener('keylog', onKeylog) };
}
