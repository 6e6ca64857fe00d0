// Sends one of the proxy's fixed error replies in a form the caller can read: a gRPC status to a gRPC call, else the JSON body.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorReply } from './error-replies.js';
import { isGrpcContentType, sendGrpcRefusal } from './grpc-status.js';
import { h2StreamOf, hasHttp1Body } from './message-body.js';

/** Refused HTTP/1.1 requests whose remaining body is read and dropped under a deadline (see markDrainBounded). */
const drainBounded = new WeakSet<FastifyRequest['raw']>();

/** The remaining body of this refused HTTP/1.1 request has a deadline: its connection may stay open after the reply. */
export function markDrainBounded(raw: FastifyRequest['raw']): void {
  drainBounded.add(raw);
}

export function sendErrorReply(reply: FastifyReply, err: ErrorReply, requestId: string): void {
  const raw = reply.request.raw;
  const http2 = h2StreamOf(raw) !== undefined;
  // A gRPC caller cannot read a JSON body: it gets the matching gRPC status in one trailers-only frame.
  if (http2 && isGrpcContentType(raw.headers['content-type'])) return sendGrpcRefusal(reply, err.status, requestId);
  // An HTTP/1.1 body not read yet would have to be drained, for as long as the caller cares to trickle it, before
  // the connection could carry another request. The authorize hook bounds that drain (a body already in flight
  // finishes, and requests pipelined behind it are still answered); any other refusal ends the connection instead.
  if (!http2 && !raw.complete && hasHttp1Body(raw.headers) && !drainBounded.has(raw)) reply.header('connection', 'close');
  reply.code(err.status).header('content-type', 'application/json; charset=utf-8').header('x-request-id', requestId).send(err.body);
}
