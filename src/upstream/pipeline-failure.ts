// An error thrown inside the proxy's own exchange code is answered (fixed 500, or gRPC INTERNAL), logged and counted,
// even after the reply was taken over from fastify.
import http2 from 'node:http2';
import type { Logger } from 'pino';
import { internalError } from '../http/error-replies.js';
import type { ExchangeReply, ExchangeRequest } from '../record/exchange-reply.js';
import { contextOf } from '../record/request-context.js';
import { sendErrorReply } from '../record/error-reply.js';
import { GrpcStatus, isGrpcContentType, respondTrailersOnly } from '../http/grpc-status.js';
import { cutResponse } from './response-relay.js';

/**
 * fastify runs with `logger: false` and, once a reply is hijacked, drops an error a hook throws without answering:
 * the caller would wait forever. Here the caller gets the fixed 500 (a gRPC caller: INTERNAL, trailers-only), or a
 * cut when an answer had already begun; fastify's onResponse then writes the access line and counts it.
 */
export function answerPipelineFailure(request: ExchangeRequest, reply: ExchangeReply, err: unknown, log: Logger): void {
  const ctx = contextOf(request);
  const requestId = ctx?.requestId ?? '';
  log.warn(
    { requestId, code: (err as { code?: unknown } | null)?.code, status: 500 },
    'request failed inside the proxy',
  );
  if (!reply.sent) {
    sendErrorReply(reply, internalError(requestId), requestId);
    return;
  }
  const res = reply.raw;
  const stream = ctx?.h2Stream;
  if (ctx !== undefined && stream !== undefined && isGrpcContentType(request.raw.headers['content-type'])) {
    ctx.grpcStatus = GrpcStatus.INTERNAL;
    if (!respondTrailersOnly(stream, GrpcStatus.INTERNAL, requestId))
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (res.headersSent) {
    if (ctx !== undefined) cutResponse(ctx);
    else res.destroy();
    return;
  }
  const body = internalError(requestId).body;
  if (stream === undefined) res.setHeader('connection', 'close');
  res.writeHead(500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  });
  res.end(body);
}
