// Judges every TLS connection once, right after its handshake: verified, non-empty, unrevoked certificate or destroyed.
import { hash, randomBytes, X509Certificate } from 'node:crypto';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { buildIdentityHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import type { RejectReason } from '../ops/reject-reasons.js';
import { createCallerExpiryWatch } from './caller-expiry.js';
import { MAX_CERTIFICATE_BYTES } from './chain-defects.js';
import { createChainMemory } from './chain-memory.js';
import { classifyClientError, classifyVerifyError } from './handshake-reason.js';
import { judgeChain, type ChainJudgement, type ChainTrust, type PresentedChain } from './judge-chain.js';
import { chainKeyOf, readPeerChain, readResumedLeaf, readSessionLeaf, type PeerChain } from './peer-chain.js';
import { createVerdictCache, type ChainVerdict } from './verdict-cache.js';
import { keepVerdictsInGate } from './verdict-handoff.js';
import { kConnection, validUntilOf, type VerifiedConnection } from './verified-connection.js';

type GatedSocket = TLSSocket & { [kConnection]?: VerifiedConnection };

export interface GateDeps {
  /** The snapshot store: the CAs and CRLs in force now, and a version that changes with them. */
  store: { readonly current: { version: number; material: ChainTrust } };
  metrics: Metrics;
  log: Logger;
  forwardCert: boolean;
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
  const observeRemainingLifetime = createCallerExpiryWatch({ metrics, log });

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
      judgedVersion: version,
      revoked: false,
    };
    metrics.activeConnections.inc();
    socket.on('close', onClose);
    observeRemainingLifetime(verdict.identity);
  };

  // Full handshake verdicts are cached by the presented chain; resumed ones by the leaf and the chains remembered for
  // it.
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

  /** The peer's chain as judgeChain reads it; a chain that is too long is refused before any of it is parsed. */
  const presentedOf = (socket: TLSSocket, peer: PeerChain | null): PresentedChain | null => {
    if (peer === null) return null;
    const verifyError = socket.authorized === true ? null : String(socket.authorizationError ?? '');
    const certs = peer.tooLong ? [] : peer.certs.map((c) => new X509Certificate(c.raw));
    return { certs, tooLong: peer.tooLong, verifyError, resumed: false, remembered: null };
  };

  const admitJudged = (socket: GatedSocket, judgement: ChainJudgement, key: string, version: number): void => {
    if (!judgement.admitted) {
      if (judgement.fullHandshakeNeeded === true) forceFullHandshakes();
      reject(socket, judgement.reason, judgement.detail);
      return;
    }
    const { identity, chains } = judgement;
    const verdict: ChainVerdict = {
      identity,
      identityHeaders: buildIdentityHeaders(identity, { forwardCert: deps.forwardCert }),
      chains,
      validUntilMs: validUntilOf(chains),
    };
    verdicts.set(key, version, verdict);
    admit(socket, verdict, version);
  };

  // Leaves (by the SHA-256 of their DER) that no loaded CA issued: their handshakes go straight to the presented chain.
  const chainNeeded = createVerdictCache<true>();

  /**
   * A verified full handshake whose leaf a loaded CA issued needs nothing else the peer sent: judgeChain builds its
   * chain from the leaf and the loaded CAs alone (it tries them before anything the peer sent), so the verdict is a
   * function of the leaf and the snapshot, cached by the leaf. The leaf comes from the session (readSessionLeaf), far
   * cheaper than getPeerCertificate(true)'s objects. False, judging nothing, for a leaf under an intermediate: that
   * handshake is judged on the chain the peer presented.
   */
  const judgedOnLeaf = (socket: GatedSocket, snapshot: GateDeps['store']['current']): boolean => {
    const der = readSessionLeaf(socket);
    if (der === null) return false;
    const key = `leaf:${hash('sha256', der)}`;
    const cached = verdicts.get(key, snapshot.version);
    if (cached !== undefined) {
      const chain = cached.chains[0]!;
      chainMemory.remember(chain[0]!.fingerprint256, chain);
      admit(socket, cached, snapshot.version);
      return true;
    }
    if (chainNeeded.get(key, snapshot.version) === true) return false;
    const leaf = new X509Certificate(der);
    const presented = { certs: [leaf], tooLong: false, verifyError: null, resumed: false, remembered: null };
    const judgement = judgeChain(presented, snapshot.material, Date.now());
    if (judgement.built === undefined || judgement.built.length < 2) {
      chainNeeded.set(key, snapshot.version, true);
      return false;
    }
    chainMemory.remember(leaf.fingerprint256, judgement.built);
    admitJudged(socket, judgement, key, snapshot.version);
    return true;
  };

  /** A full handshake: judged on its leaf when a loaded CA issued it, else on the chain the peer presented. */
  const onFullHandshake = (socket: GatedSocket): void => {
    const snapshot = store.current;
    if (socket.authorized === true) {
      syncMemory(snapshot.material.caCerts);
      if (judgedOnLeaf(socket, snapshot)) return;
    }
    const peer = readPeerChain(socket);
    if (peer === null || peer.tooLong || socket.authorized !== true) {
      const refusal = judgeChain(presentedOf(socket, peer), snapshot.material, Date.now());
      if (!refusal.admitted) reject(socket, refusal.reason, refusal.detail);
      else socket.destroy(); // never admitted without a verified chain: fail closed
      return;
    }
    syncMemory(snapshot.material.caCerts);
    const leafFingerprint = peer.certs[0]!.fingerprint256;
    const key = chainKeyOf(peer.certs);
    const cached = verdicts.get(key, snapshot.version);
    if (cached !== undefined) {
      chainMemory.remember(leafFingerprint, cached.chains[0]!);
      admit(socket, cached, snapshot.version);
      return;
    }
    const judgement = judgeChain(presentedOf(socket, peer), snapshot.material, Date.now());
    if (judgement.built !== undefined) chainMemory.remember(leafFingerprint, judgement.built);
    admitJudged(socket, judgement, key, snapshot.version);
  };

  /**
   * A verified resumed session: the ticket kept only the leaf, so it is judged on the chains full handshakes verified
   * for that leaf (or, for a leaf issued by a loaded CA, on that CA), under the CAs and CRLs in force now.
   */
  const onResumedSession = (socket: GatedSocket): void => {
    const leaf = readResumedLeaf(socket);
    const snapshot = store.current;
    if (leaf === null) {
      const refusal = judgeChain(null, snapshot.material, Date.now());
      if (!refusal.admitted) reject(socket, refusal.reason, refusal.detail);
      else socket.destroy();
      return;
    }
    syncMemory(snapshot.material.caCerts);
    const leafFingerprint = leaf.fingerprint256;
    const memory = chainMemory.recall(leafFingerprint);
    const key = `resumed:${leafFingerprint}:${memory?.tag ?? 'none'}`;
    const cached = verdicts.get(key, snapshot.version);
    if (cached !== undefined) {
      admit(socket, cached, snapshot.version);
      return;
    }
    const presented = {
      certs: [leaf],
      tooLong: false,
      verifyError: null,
      resumed: true,
      remembered: memory?.chains ?? null,
    };
    admitJudged(socket, judgeChain(presented, snapshot.material, Date.now()), key, snapshot.version);
  };

  const onSecureConnection = (socket: GatedSocket): void => {
    try {
      // Every refusal reads the whole chain the peer presented, to name its defect.
      if (socket.authorized === true && socket.isSessionReused()) onResumedSession(socket);
      else onFullHandshake(socket);
    } catch (err) {
      // Fail closed, and keep the process up: a certificate that cannot be read or judged is never admitted.
      reject(socket, 'other', `the gate could not judge the connection: ${(err as Error).message}`);
    }
  };

  const onClientError = (err: Error & { code?: string }, socket: TLSSocket): void => {
    // Node itself destroys a socket whose certificate did not verify when the verdict was not handed to the gate
    // (see keepVerdictsInGate); it then reports only a hang-up, and the verification code says why.
    const verifyCode =
      socket.authorizationError === null || socket.authorizationError === undefined
        ? ''
        : String(socket.authorizationError);
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
