// One request's context, made once at admission: how it came (HTTP/1.x or its HTTP/2 stream), its reply, what was
// decided and what became of it.
import type { ServerHttp2Stream } from 'node:http2';
import type { VerifiedConnection } from '../gate/verified-connection.js';
import type { ExchangeReply, ExchangeRequest } from './exchange-reply.js';

/** How the request came: an HTTP/2 stream, or an HTTP/1.x connection (whatever version its request line claims). */
export type Transport = 'h1' | 'h2';

/**
 * Decided once, from the object the request arrived on (never from `httpVersionMajor`: an HTTP/1.1 connection may
 * send a request line reading `HTTP/2.0`). Every later choice that depends on the protocol reads this.
 */
type TransportFacts = { transport: 'h1'; h2Stream: undefined } | { transport: 'h2'; h2Stream: ServerHttp2Stream };

interface ContextFields {
  requestId: string;
  reply: ExchangeReply;
  /** Normalized path (no query): judged and forwarded. */
  path: string;
  conn: VerifiedConnection | undefined;
  decision: 'allow' | 'deny' | 'bad_request' | 'no_identity' | 'revoked';
  rule: string | null;
  route: string | null;
  /** Why the policy refused (deny only). */
  refusal?: string;
  /** Bounded reason of an upstream failure (timeout, refused, reset, tls, other), for the access line. */
  upstreamError?: string;
  /** True while a forwarder owns the exchange: it records the outcome itself (499, 502) unless it ends normally. */
  forwarding?: boolean;
  /** The gRPC status the caller received (gRPC calls only). */
  grpcStatus?: number;
  /** Set once the exchange's access line and metrics are written: an exchange is recorded once. */
  recorded?: boolean;
  /** A refused HTTP/1.1 request whose remaining body is read and dropped under a deadline (see markDrainBounded). */
  drainBounded?: boolean;
}

export type RequestContext = ContextFields & TransportFacts;

const kContext = Symbol('mtls-sidecar.request-context');

type WithContext = { [kContext]?: RequestContext };

export function contextOf(request: object): RequestContext | undefined {
  return (request as WithContext)[kContext];
}

/** The HTTP/2 stream a request arrived on; undefined over HTTP/1.x. */
function h2StreamOf(request: ExchangeRequest): ServerHttp2Stream | undefined {
  return (request.raw as { stream?: ServerHttp2Stream }).stream;
}

/** Makes the request's context (transport decided here, once) and attaches it to the request. */
export function openRequestContext(
  request: ExchangeRequest,
  reply: ExchangeReply,
  init: { requestId: string; conn: VerifiedConnection | undefined },
): RequestContext {
  const stream = h2StreamOf(request);
  const facts: TransportFacts =
    stream === undefined ? { transport: 'h1', h2Stream: undefined } : { transport: 'h2', h2Stream: stream };
  const ctx: RequestContext = { ...init, ...facts, reply, path: '', decision: 'no_identity', rule: null, route: null };
  (request as WithContext)[kContext] = ctx;
  return ctx;
}

/** The transport of a request, from its context; a request not admitted yet is judged by the same fact. */
export function transportOf(request: ExchangeRequest): Transport {
  return contextOf(request)?.transport ?? (h2StreamOf(request) === undefined ? 'h1' : 'h2');
}
