// Reads the certificates a TLS client presented, without Node's leaking getPeerX509Certificate() wherever the client
// could have sent more than its leaf.
import type { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { peerCertificateOfSession } from './session-leaf.js';

/**
 * Longest chain admitted, leaf and root included (leaf + up to 8 intermediates + root). Real chains have 2–4; a longer
 * one is refused as chain_too_long before anything but this walk touched it.
 */
export const MAX_CHAIN_LENGTH = 10;

export interface PeerChain {
  /** Leaf first, then each issuer as Node links them (see readPeerChain); at most MAX_CHAIN_LENGTH entries. */
  certs: PeerCertificate[];
  /** The links went on past MAX_CHAIN_LENGTH. */
  tooLong: boolean;
}

/**
 * The peer's chain from getPeerCertificate(true): the leaf, then the certificates the peer sent that issued the one
 * below (Node links them by issuer name, so strays and repeats are not in it), then the issuers Node found among the
 * loaded CAs. Not getPeerX509Certificate(): on a server socket it leaks every certificate the peer sent beyond the
 * leaf (Node 20 and 24: the peer chain copy is never freed), so a client could grow our memory at will.
 * Null when the peer sent no certificate. On a resumed session Node knows only the leaf (the ticket keeps no chain).
 */
export function readPeerChain(socket: TLSSocket): PeerChain | null {
  // An empty object when the peer sent none.
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | null | undefined;
  if (leaf === null || leaf === undefined || leaf.raw === undefined) return null;
  const certs: DetailedPeerCertificate[] = [leaf];
  const seen = new Set([leaf.fingerprint256]);
  let node: DetailedPeerCertificate = leaf;
  for (;;) {
    const next: DetailedPeerCertificate | undefined = node.issuerCertificate;
    // A self-signed root links to itself; any other repeat is a loop.
    if (next === undefined || next === null || next.raw === undefined || seen.has(next.fingerprint256))
      return { certs, tooLong: false };
    if (certs.length >= MAX_CHAIN_LENGTH) return { certs, tooLong: true };
    seen.add(next.fingerprint256);
    certs.push(next);
    node = next;
  }
}

/**
 * The leaf of a resumed session, all the peer has there: a session ticket (TLS 1.2 and 1.3) keeps the peer's leaf and
 * no chain, and a resumed handshake carries no Certificate message, so OpenSSL holds no peer chain for Node's
 * getPeerX509Certificate() to leak (it leaks only the certificates beyond the leaf, which it takes out of that chain
 * and never frees). It is ~5–10x cheaper than building getPeerCertificate()'s object. The server keeps no session-id
 * cache (Node disables OpenSSL's internal one and no 'resumeSession' handler is set), so tickets are the only way a
 * session resumes. test/gate/no-memory-growth-from-resumptions.test.ts holds RSS flat over thousands of resumptions.
 * Null when the peer has no certificate.
 */
export function readResumedLeaf(socket: TLSSocket): X509Certificate | null {
  return socket.getPeerX509Certificate() ?? null;
}

/**
 * The DER of the leaf of a full handshake, from the session OpenSSL made for it (getSession() serializes it; the
 * session keeps the peer's leaf and never its chain): a fraction of the cost of getPeerCertificate()'s object, and it
 * leaks nothing. The serialized session holds the master key too: it is wiped before this returns. Null when there is
 * no session or no leaf in it.
 */
export function readSessionLeaf(socket: TLSSocket): Buffer | null {
  const session = socket.getSession();
  if (session === undefined) return null;
  const leaf = peerCertificateOfSession(session);
  session.fill(0);
  return leaf;
}

/** SHA-256 fingerprints of the chain joined: the key of a cached verdict. */
export function chainKeyOf(certs: readonly PeerCertificate[]): string {
  let key = '';
  for (const cert of certs) key += `${cert.fingerprint256}/`;
  return key;
}
