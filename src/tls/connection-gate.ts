// Judges every TLS connection once, right after its handshake: verified, non-empty, unrevoked certificate or destroyed.
import { X509Certificate } from 'node:crypto';
import type { Server as TlsServer, TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Identity } from '../identity/types.js';
import { buildIdentityHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import type { SnapshotStore } from '../server/snapshot.js';
import { classifyClientError, classifyVerifyError, type RejectReason } from './handshake-reason.js';
import { buildSignedChain, isChainAnchored, isChainRevoked } from './revocation.js';

export const kConnection = Symbol('mtls-sidecar.connection');

export interface VerifiedConnection {
  identity: Identity;
  identityHeaders: ReadonlyArray<readonly [string, string]>;
  /** The peer chain (leaf first) as verified; kept so revocation can be re-judged after a CRL reload. */
  chain: X509Certificate[];
  remoteAddress: string;
  /** Snapshot version this connection was last judged under, and the verdict then. */
  judgedVersion: number;
  revoked: boolean;
}

type GatedSocket = TLSSocket & { [kConnection]?: VerifiedConnection };

/** The verified state of the connection a request arrived on; undefined means: never forward. */
export function verifiedConnectionOf(socket: unknown): VerifiedConnection | undefined {
  if (socket === null || typeof socket !== 'object') return undefined;
  return (socket as GatedSocket)[kConnection];
}

export interface GateDeps {
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
  forwardCert: boolean;
}

const EXPIRY_WARNING_MS = 7 * 86_400_000;
const MAX_REMEMBERED_EXPIRY_WARNINGS = 10_000;

/** The certificates above the leaf as Node reports them (sent by the peer or found in the trust store). */
function peerSentOf(detailed: PeerCertificate | DetailedPeerCertificate, leaf: X509Certificate): X509Certificate[] {
  const sent: X509Certificate[] = [];
  let node = detailed;
  const seen = new Set<string>([leaf.fingerprint256]);
  for (let depth = 0; depth < 16; depth += 1) {
    const next = (node as DetailedPeerCertificate).issuerCertificate;
    if (!next || next === node || !next.raw) break;
    const cert = new X509Certificate(next.raw);
    if (seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    sent.push(cert);
    node = next;
  }
  return sent;
}

/**
 * Re-judges an open connection under the current snapshot: revoked by a CRL, no longer chaining to a loaded
 * CA, or expired since the handshake all count as revoked (the request gets 403). Cheap unless the snapshot
 * changed since the connection was last judged.
 */
export function refreshRevocation(conn: VerifiedConnection, store: SnapshotStore): boolean {
  const snapshot = store.current;
  if (conn.judgedVersion !== snapshot.version) {
    const { crls, caCerts } = snapshot.material;
    conn.revoked = isChainRevoked(conn.chain, crls) || !isChainAnchored(conn.chain, caCerts);
    conn.judgedVersion = snapshot.version;
  }
  return conn.revoked || conn.identity.notAfter.getTime() <= Date.now();
}

export function attachConnectionGate(server: TlsServer, deps: GateDeps): { stop(): void } {
  const { metrics, log, store } = deps;
  const rejectionLog = createRateLimitedLog({ limit: 20, windowMs: 10_000 }, (suppressed, total) =>
    log.warn({ suppressed, total }, 'tls rejections suppressed from the log'),
  );
  const warnedExpiry = new Set<string>();

  const reject = (socket: TLSSocket, reason: RejectReason, detail?: string): void => {
    metrics.handshakeFailures.inc({ reason });
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    rejectionLog.log(reason, () => log.warn({ reason, peer, detail }, 'tls connection rejected'));
    socket.destroy();
  };

  const onSecureConnection = (socket: GatedSocket): void => {
    // Read the detailed chain first and only once: Node 20 empties the peer chain after the first detailed
    // read or a getPeerX509Certificate() call, and a later read would miss a client-sent intermediate.
    const detailed = socket.getPeerCertificate(true);
    const leaf = socket.getPeerX509Certificate();
    if (socket.authorized !== true || leaf === undefined) {
      reject(socket, classifyVerifyError(String(socket.authorizationError ?? ''), leaf !== undefined), String(socket.authorizationError ?? ''));
      return;
    }
    const snapshot = store.current;
    // Built always, not only when CRLs are loaded: a CRL that appears later re-judges this connection.
    const chain = buildSignedChain(leaf, peerSentOf(detailed, leaf), snapshot.material.caCerts);
    if (isChainRevoked(chain, snapshot.material.crls)) {
      reject(socket, 'revoked');
      return;
    }
    // A socket accepted before a reload handshakes with the secure context of that moment; judge its chain
    // against the CAs in force now, exactly as refreshRevocation does for later requests.
    if (!isChainAnchored(chain, snapshot.material.caCerts)) {
      reject(socket, 'unknown_ca', 'issuer no longer trusted');
      return;
    }
    const identity = tryComputeIdentity(leaf);
    if (identity === null) {
      reject(socket, 'other', 'certificate could not be parsed');
      return;
    }
    socket[kConnection] = {
      identity,
      identityHeaders: buildIdentityHeaders(identity, { forwardCert: deps.forwardCert }),
      chain,
      remoteAddress: socket.remoteAddress ?? '',
      judgedVersion: snapshot.version,
      revoked: false,
    };
    metrics.activeConnections.inc();
    socket.once('close', () => metrics.activeConnections.dec());
    observeRemainingLifetime(identity);
  };

  const observeRemainingLifetime = (identity: Identity): void => {
    const remainingMs = identity.notAfter.getTime() - Date.now();
    metrics.clientCertRemaining.observe(Math.max(0, remainingMs / 1000));
    if (remainingMs < EXPIRY_WARNING_MS && !warnedExpiry.has(identity.fingerprint256)) {
      if (warnedExpiry.size >= MAX_REMEMBERED_EXPIRY_WARNINGS) warnedExpiry.clear();
      warnedExpiry.add(identity.fingerprint256);
      log.warn(
        { subject: identity.subject, serial: identity.serial, notAfter: identity.notAfter.toISOString() },
        'caller certificate expires within 7 days',
      );
    }
  };

  const onClientError = (err: Error & { code?: string }, socket: TLSSocket): void => {
    const reason = classifyClientError(err);
    metrics.handshakeFailures.inc({ reason });
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    rejectionLog.log(reason, () => log.warn({ reason, peer, detail: err.code ?? err.message }, 'tls handshake failed'));
  };

  // Prepended so the verdict runs before the HTTP layer attaches to the socket.
  server.prependListener('secureConnection', onSecureConnection);
  server.on('tlsClientError', onClientError);
  return {
    stop() {
      server.removeListener('secureConnection', onSecureConnection);
      server.removeListener('tlsClientError', onClientError);
      rejectionLog.stop();
    },
  };
}
