// What the authorize hook learned about a request, carried to the proxy and the access log.
import type { VerifiedConnection } from '../tls/connection-gate.js';

/** How the request came: an HTTP/2 stream, or an HTTP/1.x connection (whatever version its request line claims). */
export type Transport = 'h1' | 'h2';

export interface RequestContext {
  requestId: string;
  /** Decided once, at admission, from the connection; every later choice that depends on the protocol reads it. */
  transport: Transport;
  /** Normalized path (no query): judged and forwarded. */
  path: string;
  conn: VerifiedConnection | undefined;
  decision: 'allow' | 'deny' | 'bad_request' | 'no_identity' | 'revoked';
  rule: string | null;
  route: string | null;
  /** Why the policy refused (deny only). */
  refusal?: string;
  upstreamError?: string;
  /** True while the forwarder owns the exchange: it records the outcome itself (499, 502) unless it ends normally. */
  forwarding?: boolean;
}

export const kContext = Symbol('mtls-sidecar.request-context');

export type WithContext = { [kContext]?: RequestContext };

export function contextOf(request: object): RequestContext | undefined {
  return (request as WithContext)[kContext];
}

export function setContext(request: object, ctx: RequestContext): void {
  (request as WithContext)[kContext] = ctx;
}
