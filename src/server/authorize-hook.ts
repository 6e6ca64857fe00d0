// The onRequest gate: request id, path and Host safety (400), revocation and policy on the current snapshot (403), drain (503).
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { acceptOrGenerateRequestId } from '../http/request-id.js';
import { h2StreamOf, hasHttp1Body } from '../http/message-body.js';
import { normalizePath } from '../http/normalize-path.js';
import { badRequest, forbidden, serviceUnavailable, type ErrorReply } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import { refreshRevocation, verifiedConnectionOf } from '../tls/connection-gate.js';
import { isGrpcContentType, sendGrpcRefusal } from './grpc-status.js';
import type { SnapshotStore } from '../state/snapshot.js';
import { contextOf, setContext, type RequestContext, type Transport } from './request-context.js';

/** The transport recorded at admission; before admission (framework errors), judged by the same fact: the stream. */
export function transportOf(request: FastifyRequest): Transport {
  return contextOf(request)?.transport ?? (h2StreamOf(request.raw) === undefined ? 'h1' : 'h2');
}

export function sendErrorReply(reply: FastifyReply, err: ErrorReply, requestId: string): void {
  const request = reply.request;
  const raw = request.raw;
  const transport = transportOf(request);
  // A gRPC caller cannot read a JSON body: it gets the matching gRPC status in one trailers-only frame.
  if (transport === 'h2' && isGrpcContentType(raw.headers['content-type'])) return sendGrpcRefusal(reply, err.status, requestId);
  // An HTTP/1.1 body not read yet would have to be drained, for as long as the caller cares to trickle it, before
  // the connection could carry another request. The authorize hook bounds that drain (a body already in flight
  // finishes, and requests pipelined behind it are still answered); any other refusal ends the connection instead.
  if (transport === 'h1' && !raw.complete && hasHttp1Body(raw.headers) && !drainBounded.has(raw)) reply.header('connection', 'close');
  reply.code(err.status).header('content-type', 'application/json; charset=utf-8').header('x-request-id', requestId).send(err.body);
}

/**
 * The host the caller addressed, for X-Forwarded-Host: `:authority` on HTTP/2 (RFC 9113 §8.3.1 makes it the
 * authority; a Host header there may only repeat it, see hostConflict), else `Host`.
 */
export function forwardedHostOf(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'];
  if (typeof authority === 'string' && authority !== '') return authority;
  return headers.host;
}

/** An HTTP/2 request whose Host header names another authority than `:authority` is malformed (RFC 9113 §8.3.1). */
function hostConflict(headers: IncomingHttpHeaders): boolean {
  const authority = headers[':authority'];
  return typeof authority === 'string' && headers.host !== undefined && headers.host.toLowerCase() !== authority.toLowerCase();
}

/**
 * More than one Host field (RFC 9112 §3.2: answer 400). Node keeps only the first in `headers`, so the raw list is
 * counted; one pass, the name compared only when its length can match.
 */
function duplicateHost(rawHeaders: string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name === undefined || name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

/**
 * An HTTP/1 connection carries HTTP/1.0 and HTTP/1.1 request lines only. Node's parser also takes `HTTP/2.0` and
 * `HTTP/0.9` lines there (httpVersionMajor 2 or 0): they are refused, so nothing downstream meets a version number
 * that disagrees with the connection.
 */
function isHttp1Line(raw: FastifyRequest['raw']): boolean {
  return raw.httpVersionMajor === 1 && (raw.httpVersionMinor === 0 || raw.httpVersionMinor === 1);
}

/**
 * RFC 9112 §6.1: a request with Transfer-Encoding whose final coding is not `chunked` has a body of unknowable length
 * (400, and the connection closes). Node's parser lets such a request through and fails on its body afterwards.
 */
function chunkedLast(headers: IncomingHttpHeaders): boolean {
  const te = headers['transfer-encoding'];
  if (te === undefined) return true;
  const codings = te.split(',');
  return codings[codings.length - 1]?.trim().toLowerCase() === 'chunked';
}

function expectsContinue(headers: IncomingHttpHeaders): boolean {
  return headers.expect?.toLowerCase() === '100-continue';
}

/** Refused HTTP/1.1 requests whose remaining body has a deadline (see refuseRequest). */
const drainBounded = new WeakSet<FastifyRequest['raw']>();

const kReply = Symbol('mtls-sidecar.reply');

/** The reply of a request the authorize hook has seen (for hooks fastify gives only the request, like onRequestAbort). */
export function replyOf(request: FastifyRequest): FastifyReply | undefined {
  return (request as FastifyRequest & { [kReply]?: FastifyReply })[kReply];
}

/**
 * The verified state of the connection a request came on. For HTTP/2, `raw.socket` is a proxy that forwards property
 * reads to the session's TLS socket, and throws once the session has let go of it; that reads as "no state".
 */
function connectionOf(raw: FastifyRequest['raw']): ReturnType<typeof verifiedConnectionOf> {
  try {
    return verifiedConnectionOf(raw.socket);
  } catch {
    return undefined;
  }
}

/** Fail closed: drops the whole connection without an answer (HTTP/2 sockets may not be touched, only their session). */
function dropConnection(raw: FastifyRequest['raw']): void {
  const stream = h2StreamOf(raw);
  if (stream !== undefined) {
    if (stream.session) stream.session.destroy();
    else stream.destroy();
    return;
  }
  raw.socket.destroy();
}

/** First step of every request: its context, or null when the connection was dropped (fail closed). */
function admitConnection(request: FastifyRequest, reply: FastifyReply, metrics: Metrics): RequestContext | null {
  const raw = request.raw;
  const requestId = acceptOrGenerateRequestId(raw.headers['x-request-id']);
  const conn = connectionOf(raw);
  const transport: Transport = h2StreamOf(raw) === undefined ? 'h1' : 'h2';
  const ctx: RequestContext = { requestId, transport, path: '', conn, decision: 'no_identity', rule: null, route: null };
  setContext(request, ctx);
  (request as FastifyRequest & { [kReply]?: FastifyReply })[kReply] = reply;
  if (conn === undefined) {
    // Fail closed: a request from a connection without a verified certificate is never answered or forwarded.
    metrics.authzDecisions.inc({ decision: 'no_identity' });
    reply.hijack();
    dropConnection(raw);
    return null;
  }
  return ctx;
}

/**
 * fastify's `frameworkErrors`: a target its router cannot decode (`/%FF`) is answered before any hook runs, by
 * default with a body that echoes the target. Here it gets the same connection check and fixed 400 as any bad path.
 */
export function createFrameworkErrorHandler(deps: { metrics: Metrics; record(request: FastifyRequest, reply: FastifyReply, status: number): void }) {
  return function onFrameworkError(_err: Error, request: FastifyRequest, reply: FastifyReply): void {
    const ctx = admitConnection(request, reply, deps.metrics);
    if (ctx === null) return;
    ctx.decision = 'bad_request';
    ctx.path = (request.raw.url ?? '').split('?', 1)[0] ?? '';
    deps.metrics.authzDecisions.inc({ decision: 'bad_request' });
    sendErrorReply(reply, badRequest(ctx.requestId), ctx.requestId);
    deps.record(request, reply, 400);
  };
}

export interface BodyLimits {
  /** Caller inactivity while the request body is still arriving. */
  idleMs: number;
  /** Whole time allowed to receive the request body. */
  totalMs: number;
}

/**
 * HTTP/1.1 has no limit of its own while a request body arrives (keep-alive and header timeouts only cover the
 * gaps around a request): a stalled or trickled body would hold a socket and an upstream connection forever.
 * Both limits end when the body is complete; the response side is bounded by the upstream timeouts.
 */
function limitRequestBody(raw: FastifyRequest['raw'], limits: BodyLimits): void {
  const socket = raw.socket;
  socket.setTimeout(limits.idleMs);
  const deadline = setTimeout(() => socket.destroy(), limits.totalMs);
  raw.once('end', () => {
    clearTimeout(deadline);
    socket.setTimeout(0);
  });
  raw.once('close', () => clearTimeout(deadline));
  socket.once('close', () => clearTimeout(deadline));
}

export function createAuthorizeHook(deps: { store: SnapshotStore; metrics: Metrics; isDraining?: () => boolean; bodyLimits?: BodyLimits }) {
  const { store, metrics } = deps;
  const isDraining = deps.isDraining ?? (() => false);
  const bodyLimits = deps.bodyLimits;
  return function authorize(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    const ctx = admitConnection(request, reply, metrics);
    if (ctx === null) return;
    const { requestId, conn } = ctx;
    if (conn === undefined) return;
    /**
     * A refused HTTP/1.1 request's remaining body is read and dropped for at most --idle-timeout in all (then the
     * connection is cut): a trickled body cannot hold it longer, and one already sent lets pipelined requests through.
     */
    const refuse = (err: ErrorReply): void => {
      if (ctx.transport === 'h1' && bodyLimits !== undefined && hasHttp1Body(raw.headers) && !raw.complete && reply.getHeader('connection') !== 'close') {
        limitRequestBody(raw, { idleMs: bodyLimits.idleMs, totalMs: bodyLimits.idleMs });
        drainBounded.add(raw);
      }
      sendErrorReply(reply, err, requestId);
    };
    const normalized = normalizePath(raw.url ?? '');
    const http1 = ctx.transport === 'h1';
    const unframed = http1 && (!isHttp1Line(raw) || !chunkedLast(raw.headers));
    if (!normalized.ok || unframed || (http1 && raw.headers.host === undefined) || hostConflict(raw.headers) || duplicateHost(raw.rawHeaders)) {
      // After a request line of another version or a body of unknowable length, nothing more on this connection can
      // be trusted to be framed as HTTP/1.1.
      if (unframed) reply.header('connection', 'close');
      ctx.decision = 'bad_request';
      ctx.path = (raw.url ?? '').split('?', 1)[0] ?? '';
      metrics.authzDecisions.inc({ decision: 'bad_request' });
      refuse(badRequest(requestId));
      return;
    }
    ctx.path = normalized.path;
    if (refreshRevocation(conn, store)) {
      ctx.decision = 'revoked';
      metrics.authzDecisions.inc({ decision: 'deny' });
      refuse(forbidden(requestId));
      return;
    }
    const decision = store.current.policy.decide(raw.method ?? 'GET', normalized.path, conn.identity);
    ctx.route = decision.route;
    ctx.rule = decision.rule;
    if (!decision.allowed) {
      ctx.decision = 'deny';
      ctx.refusal = decision.refusal;
      metrics.authzDecisions.inc({ decision: 'deny' });
      refuse(forbidden(requestId));
      return;
    }
    ctx.decision = 'allow';
    metrics.authzDecisions.inc({ decision: 'allow' });
    if (isDraining()) {
      // Shutting down: judged as usual, but not forwarded. HTTP/1.1 keep-alive callers are told to go elsewhere.
      if (http1) reply.header('connection', 'close');
      sendErrorReply(reply, serviceUnavailable(requestId), requestId);
      return;
    }
    // Admitted: only now is the caller invited to send the body it held back (no upstream hop carries Expect).
    if (expectsContinue(raw.headers)) reply.raw.writeContinue();
    // WebSocket tunnels manage their own lifetime; a request without a body is already complete.
    if (http1 && bodyLimits !== undefined && hasHttp1Body(raw.headers) && raw.headers.upgrade === undefined) limitRequestBody(raw, bodyLimits);
    // The path the policy judged is exactly the path forwarded; the query goes through untouched.
    raw.url = normalized.path + normalized.query;
    reply.header('x-request-id', requestId);
    done();
  };
}
