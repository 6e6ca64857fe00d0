// The state a connection carries once the gate admitted it, and its standing under a later snapshot.
import type { X509Certificate } from 'node:crypto';
import type { Identity } from '../identity/types.js';
import { chainsStillStand, type ChainTrust } from './judge-chain.js';

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

/** The verified state of the connection a request arrived on; undefined means: never forward. */
export function verifiedConnectionOf(socket: unknown): VerifiedConnection | undefined {
  if (socket === null || typeof socket !== 'object') return undefined;
  return (socket as { [kConnection]?: VerifiedConnection })[kConnection];
}

/** The earliest expiry of any certificate in the chains: an open connection is judged expired from then on. */
export function validUntilOf(chains: readonly X509Certificate[][]): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const chain of chains) for (const cert of chain) earliest = Math.min(earliest, cert.validToDate.getTime());
  return earliest;
}

/**
 * The caller of an open connection as it stands under `snapshot`: revoked by a CRL, no longer chaining to a loaded CA,
 * or expired since the handshake all count as revoked (its requests get 403). The chains are judged again only when
 * the snapshot changed since the connection was last judged; that verdict is kept on the connection.
 */
export function callerStandingOf(
  conn: VerifiedConnection,
  snapshot: { version: number; material: ChainTrust },
  now = Date.now(),
): { identity: Identity; revoked: boolean } {
  if (conn.judgedVersion !== snapshot.version) {
    conn.revoked = !chainsStillStand(conn.chains, snapshot.material);
    conn.judgedVersion = snapshot.version;
  }
  return { identity: conn.identity, revoked: conn.revoked || conn.validUntilMs <= now };
}
