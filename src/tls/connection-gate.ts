// Judges every TLS connection once, right after its handshake: verified, non-empty, unrevoked certificate or destroyed.
import { randomBytes, X509Certificate } from 'node:crypto';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Identity } from '../identity/types.js';
import { buildIdentityHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import type { SnapshotStore } from '../state/snapshot.js';
import { MAX_CERTIFICATE_BYTES } from './chain-defects.js';
import { createChainMemory } from './chain-memory.js';
import { classifyClientError, classifyVerifyError, type RejectReason } from './handshake-reason.js';
import { explainUnverified, judgeVerifiedChains, type Refusal } from './judge-chain.js';
import { chainKeyOf, readPeerChain, MAX_CHAIN_LENGTH, type PeerChain } from './peer-chain.js';
import { buildSignedChain, isChainAnchored, isChainRevoked } from '../state/revocation.js';
import { createVerdictCache, type ChainVerdict } from './verdict-cache.js';
import { keepVerdictsInGate } from './verdict-handoff.js';

export const kConnection = Symbol('mtls-sidecar.connection');

export interface VerifiedConnection {
  identity: Identity;
  identityHeaders: ReadonlyArray<readonly [string, string]>;
  /** The chains (leaf first) the connection was admitted on; kept so revocation can be re-judged after a CRL reload. */
  chains: X509Certificate[][];
  remoteAddress: string;
  /** When the first certificate of any admitted chain (leaf, intermediate or CA) expires, in ms since the epoch. */
  validUntilMs: number;
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

/**
 * The reported issuers except those that are byte for byte a loaded CA (filled in by Node from the loaded CAs):
 * buildSignedChain tries the loaded CAs first, so such a copy could never be picked.
 */
function peerSentOf(issuers: readonly X509Certificate[], caCerts: readonly X509Certificate[]): X509Certificate[] {
  if (issuers.length === 0) return issuers as X509Certificate[];
  const loaded = new Set(caCerts.map((c) => c.fingerprint256));
  return issuers.filter((issuer) => !loaded.has(issuer.fingerprint256));
}

function x509Of(peer: PeerChain): X509Certificate[] {
  return peer.certs.map((c) => new X509Certificate(c.raw));
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
    conn.revoked = conn.chains.some((chain) => isChainRevoked(chain, crls) || !isChainAnchored(chain, caCerts));
    conn.judgedVersion = snapshot.version;
  }
  return conn.revoked || conn.validUntilMs <= Date.now();
}

/** The earliest expiry of any certificate in the chains: an open connection is judged expired from then on. */
function validUntilOf(chains: readonly X509Certificate[][]): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const chain of chains) for (const cert of chain) earliest = Math.min(earliest, cert.validToDate.getTime());
  return earliest;
}

/** DER size of the peer's leaf as far as the handshake got, 0 when unknown. */
function peerCertificateSize(socket: TLSSocket): number {
  try {
    return (socket.getPeerCertificate() as { raw?: Buffer } | null)?.raw?.length ?? 0;
  } catch {
    return 0;
  }
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

  const verdicts = createVerdictCache();
  const onClose = (): void => {
    metrics.activeConnections.dec();
  };

  const admit = (socket: GatedSocket, verdict: ChainVerdict, version: number): void => {
    socket[kConnection] = {
      ...verdict,
      remoteAddress: socket.remoteAddress ?? '',
      validUntilMs: validUntilOf(verdict.chains),
      judgedVersion: version,
      revoked: false,
    };
    metrics.activeConnections.inc();
    socket.on('close', onClose);
    observeRemainingLifetime(verdict.identity);
  };

  // Full handshake verdicts are cached by the presented chain; resumed ones by the leaf and the chains remembered for it.
  const chainMemory = createChainMemory();
  let memoryCas: readonly X509Certificate[] | null = null;
  let memoryTrust = '';
  let lastRotation = 0;

  /** Remembered chains describe sessions whose tickets are still valid; the reloader rotates tickets with the CAs. */
  const syncMemory = (caCerts: readonly X509Certificate[]): void => {
    if (memoryCas === caCerts) return;
    memoryCas = caCerts;
    const trust = caCerts.map((c) => c.fingerprint256).join('/');
    if (trust !== memoryTrust) chainMemory.clear();
    memoryTrust = trust;
  };

  /**
   * A resumed session whose chain is not remembered (evicted) is refused, but the client may already hold a new
   * ticket for it (TLS 1.3 sends tickets before the gate runs) and would be refused again on every call: new ticket
   * keys make its next connection a full handshake. At most once per ten seconds.
   */
  const forceFullHandshakes = (): void => {
    if (Date.now() - lastRotation < 10_000) return;
    lastRotation = Date.now();
    server.setTicketKeys(randomBytes(48));
  };

  /** The peer's chain; null once a connection without a certificate, or with too long a chain, is refused. */
  const peerChainOrRefuse = (socket: GatedSocket): PeerChain | null => {
    const peer = readPeerChain(socket);
    if (peer === null) reject(socket, 'no_certificate', 'the client sent no certificate');
    else if (peer.tooLong) reject(socket, 'chain_too_long', `more than ${MAX_CHAIN_LENGTH} certificates`);
    else return peer;
    return null;
  };

  /** Why OpenSSL refused, from its code and the chain as far as Node links it. */
  const refuseUnverified = (socket: GatedSocket): void => {
    const peer = peerChainOrRefuse(socket);
    if (peer === null) return;
    const refusal = explainUnverified(String(socket.authorizationError ?? ''), x509Of(peer));
    reject(socket, refusal.reason, refusal.detail);
  };

  /** The chains a verified handshake stands on, or why it cannot stand. */
  const chainsOf = (socket: GatedSocket, peer: PeerChain, caCerts: readonly X509Certificate[]): X509Certificate[][] | Refusal => {
    const [leaf, ...reported] = x509Of(peer);
    if (leaf === undefined) return { reason: 'no_certificate', detail: 'the client sent no certificate' };
    const chain = buildSignedChain(leaf, peerSentOf(reported, caCerts), caCerts);
    if (!socket.isSessionReused()) {
      chainMemory.remember(leaf.fingerprint256, chain);
      return [chain];
    }
    // The ticket kept only the leaf: judge every chain a full handshake verified for it. A leaf issued by a loaded
    // CA needs none. Without either, refuse: the client's next full handshake gets judged whole.
    const remembered = chainMemory.recall(leaf.fingerprint256);
    if (remembered !== null) return remembered.chains;
    if (chain.length > 1 && isChainAnchored(chain, caCerts)) return [chain];
    forceFullHandshakes();
    return { reason: 'unknown_ca', detail: 'resumed session whose verified chain is not known here; a full handshake is needed' };
  };

  const onSecureConnection = (socket: GatedSocket): void => {
    if (socket.authorized !== true) {
      refuseUnverified(socket);
      return;
    }
    const peer = peerChainOrRefuse(socket);
    if (peer === null) return;
    const snapshot = store.current;
    const { caCerts, crls } = snapshot.material;
    syncMemory(caCerts);
    const resumed = socket.isSessionReused();
    const leafFingerprint = peer.certs[0]!.fingerprint256;
    const key = resumed ? `resumed:${leafFingerprint}:${chainMemory.recall(leafFingerprint)?.tag ?? chainKeyOf(peer.certs)}` : chainKeyOf(peer.certs);
    const cached = verdicts.get(key, snapshot.version);
    if (cached !== undefined) {
      if (!resumed) chainMemory.remember(leafFingerprint, cached.chains[0]!);
      admit(socket, cached, snapshot.version);
      return;
    }
    const chains = chainsOf(socket, peer, caCerts);
    if (!Array.isArray(chains)) {
      reject(socket, chains.reason, chains.detail);
      return;
    }
    // A socket accepted before a reload handshakes with the secure context of that moment; its chains are judged
    // against the CAs and CRLs in force now, exactly as refreshRevocation does for later requests.
    const refusal = judgeVerifiedChains(chains, { caCerts, crls }, !resumed);
    if (refusal !== null) {
      reject(socket, refusal.reason, refusal.detail);
      return;
    }
    const identity = tryComputeIdentity(chains[0]![0]!);
    if (identity === null) {
      reject(socket, 'bad_certificate', 'certificate could not be parsed');
      return;
    }
    const verdict: ChainVerdict = { identity, identityHeaders: buildIdentityHeaders(identity, { forwardCert: deps.forwardCert }), chains };
    verdicts.set(key, snapshot.version, verdict);
    admit(socket, verdict, snapshot.version);
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
    // Node itself destroys a socket whose certificate did not verify when the verdict was not handed to the gate
    // (see keepVerdictsInGate); it then reports only a hang-up, and the verification code says why.
    const verifyCode = socket.authorizationError === null || socket.authorizationError === undefined ? '' : String(socket.authorizationError);
    let reason: RejectReason = verifyCode !== '' ? classifyVerifyError(verifyCode, true) : classifyClientError(err);
    let detail = verifyCode || err.code || err.message;
    // TLS 1.2 makes the session ticket inside the handshake; a client certificate too large for one fails it there.
    const size = reason === 'other' ? peerCertificateSize(socket) : 0;
    if (size > MAX_CERTIFICATE_BYTES) {
      reason = 'bad_certificate';
      detail = `certificate 0: ${size} bytes (at most ${MAX_CERTIFICATE_BYTES}); the handshake failed with ${detail}`;
    }
    metrics.handshakeFailures.inc({ reason });
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    rejectionLog.log(reason, () => log.warn({ reason, peer, detail }, 'tls handshake failed'));
  };

  // Prepended so the verdict runs before the HTTP layer attaches to the socket.
  server.prependListener('secureConnection', onSecureConnection);
  server.on('tlsClientError', onClientError);
  const alerts = keepVerdictsInGate(server);
  return {
    stop() {
      alerts.stop();
      server.removeListener('secureConnection', onSecureConnection);
      server.removeListener('tlsClientError', onClientError);
      rejectionLog.stop();
    },
  };
}
