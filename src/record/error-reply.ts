// Sends one of the proxy's fixed error replies in a form the caller can read: a gRPC status to a gRPC call, else the
// JSON body.
import http2 from 'node:http2';
import type { ErrorReply } from '../http/error-replies.js';
import { grpcStatusForHttp, isGrpcContentType, respondTrailersOnly } from '../http/grpc-status.js';
import { hasHttp1Body } from '../http/message-body.js';
import type { ExchangeReply, ExchangeRequest } from './exchange-reply.js';
import { contextOf, transportOf } from './request-context.js';

/** The remaining body of this refused HTTP/1.1 request has a deadline: its connection may stay open after the reply. */
export function markDrainBounded(request: ExchangeRequest): void {
  const ctx = contextOf(request);
  if (ctx !== undefined) ctx.drainBounded = true;
}

export function sendErrorReply(reply: ExchangeReply, err: ErrorReply, requestId: string): void {
  const raw = reply.request.raw;
  const overHttp2 = transportOf(reply.request) === 'h2';
  // A gRPC caller cannot read a JSON body: it gets the matching gRPC status in one trailers-only frame.
  if (overHttp2 && isGrpcContentType(raw.headers['content-type'])) return sendGrpcRefusal(reply, err.status, requestId);
  // An HTTP/1.1 body not read yet would have to be drained, for as long as the caller cares to trickle it, before
  // the connection could carry another request. The authorize hook bounds that drain (a body already in flight
  // finishes, and requests pipelined behind it are still answered); any other refusal ends the connection instead.
  if (!overHttp2 && !raw.complete && hasHttp1Body(raw.headers) && contextOf(reply.request)?.drainBounded !== true)
    reply.header('connection', 'close');
  reply
    .code(err.status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('x-request-id', requestId)
    .send(err.body);
}

/**
 * The proxy's own refusal of a gRPC call (authorization, bad path, upstream failure) as a trailers-only response
 * with the gRPC status matching `httpStatus`, instead of a JSON body a gRPC client cannot read. The reply is
 * hijacked; fastify's onResponse hooks still run when the stream closes, with HTTP status 200.
 */
export function sendGrpcRefusal(reply: ExchangeReply, httpStatus: number, requestId: string): void {
  const code = grpcStatusForHttp(httpStatus);
  const ctx = contextOf(reply.request);
  // Unreachable: callers refuse this way only requests admitted over HTTP/2.
  if (ctx?.h2Stream === undefined) throw new Error('a gRPC refusal needs an admitted HTTP/2 request');
  ctx.grpcStatus = code;
  reply.hijack();
  const stream = ctx.h2Stream;
  if (!respondTrailersOnly(stream, code, requestId)) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
}
