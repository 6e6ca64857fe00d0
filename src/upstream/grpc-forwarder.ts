// gRPC end to end: an onRequest hook, after authorization, that takes over gRPC calls and forwards them over
// node:http2.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { tooManyStreams } from '../http/error-replies.js';
import { CALLER_GONE, type OutcomeRecorder } from '../record/outcome.js';
import { contextOf, type RequestContext } from '../record/request-context.js';
import { forwardedHostOf } from '../http/host-header.js';
import { sendErrorReply } from '../record/error-reply.js';
import { isGrpcContentType } from '../http/grpc-status.js';
import { sendGrpcRefusal } from '../record/error-reply.js';
import { buildUpstreamCallHeaders, runGrpcCall } from './grpc-call.js';
import { forwardOverH2, isPlainHttpRequest } from './grpc-h2-http.js';
import { answerPipelineFailure } from './pipeline-failure.js';
import type { Upstream } from './upstream.js';

export interface GrpcForwardingDeps {
  outcomes: OutcomeRecorder;
  log: Logger;
}

/** gRPC has no HTTP/1.1 mapping: an HTTP/1.1 request with a gRPC content type is refused, plainly. */
function refuseHttp1(reply: FastifyReply, requestId: string): void {
  reply
    .code(505)
    .header('content-type', 'application/json; charset=utf-8')
    .header('x-request-id', requestId)
    .send(JSON.stringify({ error: 'grpc_requires_http2', requestId }));
}

function forwardCall(
  ctx: RequestContext,
  upstream: Upstream,
  outcomes: OutcomeRecorder,
  strip: ReadonlySet<string>,
): void {
  const raw = ctx.reply.request.raw;
  if (ctx.conn === undefined || ctx.h2Stream === undefined) return; // checked by the caller; kept for the types
  const composed = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
    remoteAddress: ctx.conn.remoteAddress,
    host: forwardedHostOf(raw.headers),
    requestId: ctx.requestId,
    strip,
  });
  // raw.url is the normalized path the policy judged (set by the authorize hook), plus the untouched query.
  const { target, sessions } = upstream;
  const headers = buildUpstreamCallHeaders(composed, {
    method: raw.method ?? 'POST',
    path: raw.url ?? '/',
    scheme: target.scheme,
    authority: target.authority,
  });
  const owner = ctx.conn;
  runGrpcCall(ctx.h2Stream, headers, ctx.requestId, {
    openUpstream: (h) => sessions.request(h, owner),
    onStatus: (code) => {
      ctx.grpcStatus = code;
    },
    onUpstreamFailure: (reason) => outcomes.noteUpstreamFailure(ctx, reason),
    onCallerGone: () => outcomes.recordExchange(ctx, CALLER_GONE),
  });
}

/**
 * Registers gRPC forwarding on `app`. Must be called after the authorize hook is added: hooks run in order, and this
 * one only sees requests the authorize hook let through (decision `allow`, normalized path in `raw.url`). Other
 * requests pass on to the HTTP/1.1 proxy, or with `--upstream-protocol h2` (WebSocket handshakes excepted) ride the
 * same HTTP/2 upstream session.
 */
export function registerGrpcForwarding(
  app: FastifyInstance,
  upstream: Upstream,
  config: Config,
  deps: GrpcForwardingDeps,
): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const ctx = contextOf(request);
    if (!isGrpcContentType(request.raw.headers['content-type'])) {
      if (config.upstreamProtocol === 'h2' && isPlainHttpRequest(request) && ctx?.decision === 'allow') {
        try {
          forwardOverH2(request, reply, upstream, config, deps.outcomes);
        } catch (err) {
          answerPipelineFailure(request, reply, err, deps.log);
        }
        return;
      }
      done();
      return;
    }
    const requestId = ctx?.requestId ?? '';
    if (ctx?.transport !== 'h2') {
      refuseHttp1(reply, requestId);
      return;
    }
    if (ctx.decision !== 'allow' || ctx.conn === undefined) {
      // Unreachable while the authorize hook runs first; fail closed if the wiring ever changes.
      sendGrpcRefusal(reply, 500, requestId);
      return;
    }
    if (upstream.sessions.callerAtLimit(ctx.conn)) {
      sendErrorReply(reply, tooManyStreams(requestId), requestId); // RESOURCE_EXHAUSTED, trailers-only
      return;
    }
    reply.hijack();
    try {
      forwardCall(ctx, upstream, deps.outcomes, config.stripHeaders);
    } catch (err) {
      answerPipelineFailure(request, reply, err, deps.log);
    }
  });
}
