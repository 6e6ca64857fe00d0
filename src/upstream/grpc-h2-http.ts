// With --upstream-protocol h2, plain HTTP requests ride the same HTTP/2 upstream session as gRPC calls (from HTTP/1.1 or HTTP/2 callers).
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { tooManyStreams, upstreamFailure, upstreamTimeout } from '../http/error-replies.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { forwardedHostOf, sendErrorReply } from '../server/authorize-hook.js';
import { buildUpstreamCallHeaders } from './grpc-call.js';
import type { UpstreamSessions } from './grpc-upstream.js';
import { contextOf } from '../record/request-context.js';

const { NGHTTP2_CANCEL } = http2.constants;

/** Response header names HTTP/1.1 callers must not be handed from an HTTP/2 response (and HTTP/2 ones cannot be). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function copyResponse(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Upgrade requests (Node's `upgrade` event: `Connection: upgrade` with an `Upgrade` header) keep their HTTP/1.1 path,
 * a WebSocket tunnel or a 400; every other request can go over HTTP/2. An `Upgrade` header on such a request is a
 * hop-by-hop offer the proxy declines (composeUpstreamHeaders drops it), so it does not change the protocol.
 */
export function isPlainHttpRequest(request: FastifyRequest): boolean {
  return (request.raw as { upgrade?: boolean }).upgrade !== true;
}

/**
 * Forwards one authorized request over an HTTP/2 stream. Until the upstream's response headers arrive, failures get
 * the same fixed bodies as the HTTP/1.1 path (502, or 504 after --upstream-timeout); after that the reply is taken
 * over and the body streams with backpressure, upstream trailers passed on where the caller's protocol carries them.
 * A body silent for --idle-timeout is cut, like the HTTP/1.1 path's body timeout.
 */
export function forwardOverH2(request: FastifyRequest, reply: FastifyReply, upstream: UpstreamSessions, config: Config, metrics: Metrics): void {
  const ctx = contextOf(request);
  const raw = request.raw;
  if (ctx === undefined || ctx.conn === undefined) return;
  const requestId = ctx.requestId;
  const composed = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
    remoteAddress: ctx.conn.remoteAddress,
    host: forwardedHostOf(raw.headers),
    requestId,
    strip: config.stripHeaders,
  });
  const headers = buildUpstreamCallHeaders(composed, { method: raw.method ?? 'GET', path: raw.url ?? '/', scheme: upstream.scheme, authority: upstream.authority }, { forceTrailers: false });
  if (upstream.callerAtLimit(ctx.conn)) {
    sendErrorReply(reply, tooManyStreams(requestId), requestId);
    return;
  }
  let answered = false;
  const failBefore = (err: Error & { code?: string; statusCode?: number; cause?: unknown }, stream?: ClientHttp2Stream): void => {
    if (answered) return;
    answered = true;
    const { reason, reply: body } = upstreamFailure(err, requestId);
    ctx.upstreamError = reason;
    metrics.upstreamErrors.inc({ reason });
    if (stream !== undefined && !stream.closed) stream.close(NGHTTP2_CANCEL);
    sendErrorReply(reply, body, requestId);
  };

  let stream: ClientHttp2Stream;
  try {
    stream = upstream.request(headers, ctx.conn);
  } catch (err) {
    failBefore(err as Error);
    return;
  }
  const headersTimer = setTimeout(() => {
    if (answered) return;
    answered = true;
    ctx.upstreamError = 'timeout';
    metrics.upstreamErrors.inc({ reason: 'timeout' });
    stream.close(NGHTTP2_CANCEL);
    sendErrorReply(reply, upstreamTimeout(requestId), requestId);
  }, config.upstreamTimeoutMs);

  raw.pipe(stream);
  stream.on('error', (err: Error & { code?: string }) => {
    clearTimeout(headersTimer);
    if (!answered) failBefore(err, stream);
    else reply.raw.destroy(); // mid-body: the caller must see a cut, never a short body that looks complete
  });
  stream.on('close', () => {
    clearTimeout(headersTimer);
    if (!answered) {
      failBefore(Object.assign(new Error('upstream stream closed before a response'), { code: 'ECONNRESET' }), stream);
      return;
    }
    const res = reply.raw;
    if (res.writableEnded || res.destroyed) return;
    // Node ends the readable side before it reports a reset, so completeness is judged here, with the reset code known.
    if (stream.readableEnded && (stream.rstCode ?? 0) === http2.constants.NGHTTP2_NO_ERROR) res.end();
    else res.destroy();
  });
  stream.on('response', (responseHeaders) => {
    clearTimeout(headersTimer);
    if (answered) return;
    answered = true;
    reply.hijack();
    const res = reply.raw;
    const out = copyResponse(responseHeaders);
    if (out['x-request-id'] === undefined) out['x-request-id'] = requestId;
    try {
      res.writeHead(Number(responseHeaders[':status'] ?? 502), out);
    } catch {
      stream.close(NGHTTP2_CANCEL);
      res.destroy();
      return;
    }
    stream.setTimeout(config.idleTimeoutMs, () => {
      stream.close(NGHTTP2_CANCEL);
      res.destroy();
    });
    stream.on('trailers', (trailers) => res.addTrailers(copyResponse(trailers)));
    stream.pipe(res, { end: false });
  });
  // The caller went away: stop the upstream work too.
  reply.raw.on('close', () => {
    if (!stream.closed && !reply.raw.writableFinished) stream.close(NGHTTP2_CANCEL);
  });
}
