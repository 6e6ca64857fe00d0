// Reads the certificates a TLS client presented, without Node's leaking getPeerX509Certificate().
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';

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
 * The leaf alone, from getPeerCertificate(): all a resumed session has from the peer (the ticket keeps no chain), read
 * without the walk through the loaded CAs that getPeerCertificate(true) does (about a third of the cost of the read).
 * Null when the peer sent no certificate.
 */
export function readPeerLeaf(socket: TLSSocket): PeerChain | null {
  // An empty object when the peer sent none.
  const leaf = socket.getPeerCertificate() as PeerCertificate | null | undefined;
  if (leaf === null || leaf === undefined || leaf.raw === undefined) return null;
  return { certs: [leaf], tooLong: false };
}

/** SHA-256 fingerprints of the chain joined: the key of a cached verdict. */
export function chainKeyOf(certs: readonly PeerCertificate[]): string {
  let key = '';
  for (const cert of certs) key += `${cert.fingerprint256}/`;
  return key;
}
