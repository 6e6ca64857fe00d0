// The onRequest hook, a fastify adapter around judgeRequest: request id and context, connection check, 400/403/503
// replies, body deadlines.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { badRequest, forbidden, serviceUnavailable } from '../http/error-replies.js';
import { hasHttp1Body } from '../http/message-body.js';
import { acceptOrGenerateRequestId } from '../http/request-id.js';
import { markDrainBounded, sendErrorReply } from '../record/error-reply.js';
import type { ExchangeReply } from '../record/exchange-reply.js';
import type { Metrics } from '../ops/metrics.js';
import { contextOf, openRequestContext, type RequestContext, type Transport } from '../record/request-context.js';
import { admitAllowed, DECISION_LABEL, limitRequestBody, noteVerdict, type BodyLimits } from './admit-allowed.js';
import { judgeArrived, type JudgingStore } from './judge-arrived.js';
import { connectionOf } from './request-head.js';

/**
 * The reply of a request the authorize hook has seen (for hooks fastify gives only the request, like onRequestAbort).
 */
export function replyOf(request: FastifyRequest): ExchangeReply | undefined {
  return contextOf(request)?.reply;
}

/**
 * Fail closed: drops the whole connection without an answer (HTTP/2 sockets may not be touched, only their session).
 */
function dropConnection(ctx: RequestContext, raw: FastifyRequest['raw']): void {
  const stream = ctx.h2Stream;
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
  const ctx = openRequestContext(request, reply, { requestId, conn });
  if (conn === undefined) {
    // Fail closed: a request from a connection without a verified certificate is never answered or forwarded.
    metrics.authzDecisions.inc({ decision: 'no_identity' });
    reply.hijack();
    dropConnection(ctx, raw);
    return null;
  }
  return ctx;
}

/**
 * fastify's `frameworkErrors`: a target its router cannot decode (`/%FF`) is answered before any hook runs, by
 * default with a body that echoes the target. Here it gets the same connection check and fixed 400 as any bad path.
 */
export function createFrameworkErrorHandler(deps: {
  metrics: Metrics;
  record(request: FastifyRequest, reply: FastifyReply, status: number): void;
}) {
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

/**
 * A refused HTTP/1.1 request's remaining body is read and dropped for at most --idle-timeout in all (then the
 * connection is cut): a trickled body cannot hold it longer, and one already sent lets pipelined requests through.
 */
function boundRefusedBody(
  raw: FastifyRequest['raw'],
  reply: FastifyReply,
  transport: Transport,
  bodyLimits: BodyLimits | undefined,
): void {
  if (transport !== 'h1' || bodyLimits === undefined || !hasHttp1Body(raw.headers) || raw.complete) return;
  if (reply.getHeader('connection') === 'close') return;
  limitRequestBody(raw, { idleMs: bodyLimits.idleMs, totalMs: bodyLimits.idleMs });
  markDrainBounded(reply.request);
}

export interface AuthorizeDeps {
  store: JudgingStore;
  metrics: Metrics;
  isDraining?: () => boolean;
  bodyLimits?: BodyLimits;
}

export function createAuthorizeHook(deps: AuthorizeDeps) {
  const { store, metrics } = deps;
  const isDraining = deps.isDraining ?? (() => false);
  const bodyLimits = deps.bodyLimits;
  return function authorize(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    const ctx = admitConnection(request, reply, metrics);
    if (ctx === null) return;
    const { requestId, conn, transport } = ctx;
    if (conn === undefined) return;
    const verdict = judgeArrived(raw, transport, conn, store, isDraining());
    noteVerdict(ctx, verdict);
    metrics.authzDecisions.inc({ decision: DECISION_LABEL[verdict.decision] });
    const http1 = transport === 'h1';
    if (verdict.decision !== 'allow') {
      // After a request line of another version or a body of unknowable length, nothing more on this connection can
      // be trusted to be framed as HTTP/1.1.
      if (verdict.decision === 'bad_request' && verdict.unframed) reply.header('connection', 'close');
      boundRefusedBody(raw, reply, transport, bodyLimits);
      sendErrorReply(
        reply,
        verdict.decision === 'bad_request' ? badRequest(requestId) : forbidden(requestId),
        requestId,
      );
      return;
    }
    if (verdict.draining) {
      // Shutting down: judged as usual, but not forwarded. HTTP/1.1 keep-alive callers are told to go elsewhere.
      if (http1) reply.header('connection', 'close');
      sendErrorReply(reply, serviceUnavailable(requestId), requestId);
      return;
    }
    admitAllowed(ctx, verdict.forwardTarget, bodyLimits);
    done();
  };
}
