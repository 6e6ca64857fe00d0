// With --upstream-protocol h2, plain HTTP requests ride the same HTTP/2 upstream session as gRPC calls (from HTTP/1.1
// or HTTP/2 callers).
import http2, { type ClientHttp2Stream } from 'node:http2';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { tooManyStreams } from '../http/error-replies.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import type { OutcomeRecorder } from '../record/outcome.js';
import { contextOf } from '../record/request-context.js';
import { forwardedHostOf } from '../http/host-header.js';
import { sendErrorReply } from '../record/error-reply.js';
import { buildUpstreamCallHeaders } from './grpc-call.js';
import { relayableHeaderObject } from './response-headers.js';
import { ResponseRelay, type UpstreamError } from './response-relay.js';
import type { Upstream } from './upstream.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

/**
 * Upgrade requests (Node's `upgrade` event: `Connection: upgrade` with an `Upgrade` header) keep their HTTP/1.1 path,
 * a WebSocket tunnel or a 400; every other request can go over HTTP/2. An `Upgrade` header on such a request is a
 * hop-by-hop offer the proxy declines (composeUpstreamHeaders drops it), so it does not change the protocol.
 */
export function isPlainHttpRequest(request: FastifyRequest): boolean {
  return (request.raw as { upgrade?: boolean }).upgrade !== true;
}

/**
 * Forwards one authorized request over an HTTP/2 stream, with the same outcomes as the HTTP/1.1 path (the fixed
 * 502, or 504 after --upstream-timeout, before the response head; 499 for a caller gone; a recorded 502 and a cut
 * after), upstream trailers passed on where the caller's protocol carries them. A body silent for --idle-timeout
 * is cut, like the HTTP/1.1 path's body timeout.
 */
export function forwardOverH2(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  config: Pick<Config, 'stripHeaders' | 'upstreamTimeoutMs' | 'idleTimeoutMs'>,
  outcomes: OutcomeRecorder,
): void {
  const ctx = contextOf(request);
  const raw = request.raw;
  // Unreachable while the authorize hook runs first; fail closed if the wiring ever changes.
  if (ctx === undefined || ctx.conn === undefined || ctx.decision !== 'allow')
    throw new Error('unverified request reached the proxy stage');
  const requestId = ctx.requestId;
  const composed = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
    remoteAddress: ctx.conn.remoteAddress,
    host: forwardedHostOf(raw.headers),
    requestId,
    strip: config.stripHeaders,
  });
  const { target, sessions } = upstream;
  const headers = buildUpstreamCallHeaders(
    composed,
    { method: raw.method ?? 'GET', path: raw.url ?? '/', scheme: target.scheme, authority: target.authority },
    { forceTrailers: false },
  );
  if (sessions.callerAtLimit(ctx.conn)) {
    sendErrorReply(reply, tooManyStreams(requestId), requestId);
    return;
  }
  const relay = new ResponseRelay(ctx, outcomes);
  let stream: ClientHttp2Stream;
  try {
    stream = sessions.request(headers, ctx.conn);
  } catch (err) {
    relay.fail(err as Error);
    return;
  }
  relay.cancelUpstream = () => {
    if (!stream.closed) stream.close(NGHTTP2_CANCEL);
  };
  const headersTimer = setTimeout(
    () =>
      relay.fail(Object.assign(new Error('upstream response headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
    config.upstreamTimeoutMs,
  );

  raw.pipe(stream);
  let streamError: UpstreamError | undefined;
  stream.on('error', (err: UpstreamError) => {
    streamError = err;
  });
  stream.on('close', () => {
    clearTimeout(headersTimer);
    // Node ends the readable side before it reports a reset, so completeness is judged here, with the reset code known.
    if (
      stream.readableEnded &&
      (stream.rstCode ?? NGHTTP2_NO_ERROR) === NGHTTP2_NO_ERROR &&
      streamError === undefined
    ) {
      relay.complete(trailers);
      return;
    }
    // The upstream reset the stream (or closed it short): a reset. A failed session reports its own cause.
    const failed = streamError !== undefined && streamError.code !== 'ERR_HTTP2_STREAM_ERROR' ? streamError : undefined;
    relay.fail(failed ?? Object.assign(new Error('upstream stream reset'), { code: 'ECONNRESET' }));
  });
  let trailers: Record<string, string | string[]> | undefined;
  stream.on('trailers', (received) => {
    trailers = relayableHeaderObject(received) as Record<string, string | string[]>;
  });
  stream.on('response', (responseHeaders) => {
    clearTimeout(headersTimer);
    if (!relay.head(Number(responseHeaders[':status'] ?? 502), relayableHeaderObject(responseHeaders))) return;
    stream.setTimeout(config.idleTimeoutMs, () =>
      relay.fail(Object.assign(new Error('upstream body idle'), { code: 'UND_ERR_BODY_TIMEOUT' })),
    );
    stream.on('data', (chunk: Buffer) => {
      if (!relay.write(chunk, () => stream.resume())) stream.pause();
    });
  });
}
