// Judges every TLS connection once, right after its handshake: verified, non-empty, unrevoked certificate or destroyed.
import { X509Certificate } from 'node:crypto';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Identity } from '../identity/types.js';
import { buildIdentityHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import type { SnapshotStore } from '../server/snapshot.js';
import { classifyClientError, classifyVerifyError, type RejectReason } from './handshake-reason.js';
import { buildSignedChain, isBuiltChainAnchored, isChainAnchored, isChainRevoked } from './revocation.js';

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

/** More than any real chain; bounds the walk over what a peer sent. */
const MAX_SENT_CERTIFICATES = 32;

/**
 * The certificates above the leaf as Node reports them through `issuerCertificate`: those the peer sent, in the order
 * sent, and where that ends, the issuer Node found among the loaded CAs. Cheaper than a detailed
 * getPeerCertificate(true), which converts every certificate of the chain into a plain object with all its fields
 * and three fingerprints.
 */
function reportedIssuersOf(leaf: X509Certificate): X509Certificate[] {
  const issuers: X509Certificate[] = [];
  const seen = new Set<string>([leaf.fingerprint256]);
  let node = leaf;
  // The links follow the order the peer sent its certificates, repeats and strays included (OpenSSL builds the
  // verified path from them by itself): a repeat is skipped, not taken as the end, so a later real issuer is kept.
  for (let depth = 0; depth < MAX_SENT_CERTIFICATES; depth += 1) {
    const next = node.issuerCertificate;
    if (next === undefined) break;
    node = next;
    if (seen.has(next.fingerprint256)) continue;
    seen.add(next.fingerprint256);
    issuers.push(next);
  }
  return issuers;
}

/**
 * The reported issuers except those that are byte for byte a loaded CA (sent again by the peer, or filled in by Node):
 * buildSignedChain tries the loaded CAs first, so such a copy could never be picked.
 */
function peerSentOf(issuers: readonly X509Certificate[], caCerts: readonly X509Certificate[]): X509Certificate[] {
  if (issuers.length === 0) return issuers as X509Certificate[];
  const loaded = new Set(caCerts.map((c) => c.fingerprint256));
  return issuers.filter((issuer) => !loaded.has(issuer.fingerprint256));
}

/** What a verified chain yields, a pure function of the chain's DER and the snapshot it was judged under. */
interface ChainVerdict {
  identity: Identity;
  identityHeaders: ReadonlyArray<readonly [string, string]>;
  chain: X509Certificate[];
}

const MAX_CACHED_VERDICTS = 1024;

/**
 * Admitted chains of the current snapshot, keyed by the SHA-256 fingerprints of the leaf and of every certificate
 * reported above it (so another chain for the same leaf, say with a different intermediate, is judged afresh).
 * OpenSSL still verifies every handshake; a hit only skips re-deriving chain, anchoring, revocation and identity,
 * which depend on nothing else. Any snapshot swap (CAs, CRLs, policy) empties it.
 */
function createVerdictCache() {
  const entries = new Map<string, ChainVerdict>();
  let version = -1;
  const sync = (current: number): void => {
    if (current === version) return;
    entries.clear();
    version = current;
  };
  return {
    get(key: string, current: number): ChainVerdict | undefined {
      sync(current);
      return entries.get(key);
    },
    set(key: string, current: number, verdict: ChainVerdict): void {
      sync(current);
      if (entries.size >= MAX_CACHED_VERDICTS) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, verdict);
    },
  };
}

function verdictKeyOf(leaf: X509Certificate, issuers: readonly X509Certificate[]): string {
  let key = leaf.fingerprint256;
  for (const issuer of issuers) key += `/${issuer.fingerprint256}`;
  return key;
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

  const verdicts = createVerdictCache();
  const onClose = (): void => {
    metrics.activeConnections.dec();
  };

  const admit = (socket: GatedSocket, verdict: ChainVerdict, version: number): void => {
    socket[kConnection] = { ...verdict, remoteAddress: socket.remoteAddress ?? '', judgedVersion: version, revoked: false };
    metrics.activeConnections.inc();
    socket.on('close', onClose);
    observeRemainingLifetime(verdict.identity);
  };

  const onSecureConnection = (socket: GatedSocket): void => {
    // One read of the peer's certificates: Node 20 hands out the peer chain once, and a second read (detailed
    // getPeerCertificate or getPeerX509Certificate) would miss a client-sent intermediate.
    const leaf = socket.getPeerX509Certificate();
    if (socket.authorized !== true || leaf === undefined) {
      reject(socket, classifyVerifyError(String(socket.authorizationError ?? ''), leaf !== undefined), String(socket.authorizationError ?? ''));
      return;
    }
    const snapshot = store.current;
    const issuers = reportedIssuersOf(leaf);
    const key = verdictKeyOf(leaf, issuers);
    const cached = verdicts.get(key, snapshot.version);
    if (cached !== undefined) {
      admit(socket, cached, snapshot.version);
      return;
    }
    const { caCerts, crls } = snapshot.material;
    // Built always, not only when CRLs are loaded: a CRL that appears later re-judges this connection.
    const chain = buildSignedChain(leaf, peerSentOf(issuers, caCerts), caCerts);
    if (isChainRevoked(chain, crls)) {
      reject(socket, 'revoked');
      return;
    }
    // A socket accepted before a reload handshakes with the secure context of that moment; judge its chain
    // against the CAs in force now, exactly as refreshRevocation does for later requests.
    if (!isBuiltChainAnchored(chain, caCerts)) {
      reject(socket, 'unknown_ca', 'issuer no longer trusted');
      return;
    }
    const identity = tryComputeIdentity(leaf);
    if (identity === null) {
      reject(socket, 'other', 'certificate could not be parsed');
      return;
    }
    const verdict: ChainVerdict = { identity, identityHeaders: buildIdentityHeaders(identity, { forwardCert: deps.forwardCert }), chain };
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
