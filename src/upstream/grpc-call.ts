// Forwards one authorized gRPC call between the caller's HTTP/2 stream and an upstream HTTP/2 stream: headers, data,
// trailers, resets, deadline.
import http2, {
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { MAX_DURATION_MS } from '../config/flags.js';
import {
  GrpcStatus,
  encodeGrpcMessage,
  grpcMessageOf,
  grpcStatusForReset,
  parseGrpcTimeout,
  respondTrailersOnly,
} from '../http/grpc-status.js';
import { relayableHeaderObject } from './response-headers.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

/**
 * Request headers HTTP/2 forbids (RFC 9113 §8.2.2) that HTTP/1.1-minded code may still hand over; `te` is set apart.
 */
const CONNECTION_SPECIFIC = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
];

export interface GrpcCallHooks {
  /** Opens the upstream stream; throws when no session can take it. */
  openUpstream(headers: OutgoingHttpHeaders): ClientHttp2Stream;
  /** The call's final gRPC status as the caller will see it (forwarded, proxy-made, or implied by a reset). */
  onStatus(code: number): void;
  /** The proxy answered in place of the upstream: bounded reason for the log and upstream_errors_total. */
  onUpstreamFailure(reason: 'timeout' | 'refused' | 'reset' | 'tls' | 'other'): void;
  /** The caller cancelled, or its connection went away, before the call ended. */
  onCallerGone(): void;
}

/** Request headers for the upstream: the sanitized set (identity already applied) plus HTTP/2 pseudo-headers. */
export function buildUpstreamCallHeaders(
  composed: Record<string, string | string[]>,
  pseudo: { method: string; path: string; scheme: string; authority: string },
  opts: { forceTrailers: boolean } = { forceTrailers: true },
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(composed)) {
    if (!CONNECTION_SPECIFIC.includes(name)) out[name] = value;
  }
  out[':method'] = pseudo.method;
  out[':scheme'] = pseudo.scheme;
  out[':authority'] = pseudo.authority;
  out[':path'] = pseudo.path;
  // gRPC requires it (PROTOCOL-HTTP2); it is the only TE value HTTP/2 allows (composeUpstreamHeaders kept no other).
  if (opts.forceTrailers) out.te = 'trailers';
  return out;
}

function statusIn(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['grpc-status'];
  return typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : undefined;
}

function classifySessionError(err: Error & { code?: string; cause?: unknown }): 'refused' | 'reset' | 'tls' | 'other' {
  // Streams of a session that failed carry ERR_HTTP2_STREAM_CANCEL; the session's own error is the cause.
  const cause = err.cause as (Error & { code?: string }) | undefined;
  const code = (err.code === 'ERR_HTTP2_STREAM_CANCEL' && cause?.code ? cause.code : err.code) ?? '';
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('ERR_HTTP2_')) return 'reset';
  if (/CERT|TLS|SSL|VERIFY|SELF_SIGNED|ISSUER/.test(code)) return 'tls';
  return 'other';
}

/**
 * Runs one call. The caller's stream is answered exactly once: the upstream's response (a trailers-only response
 * stays one frame), a proxy-made status (trailers-only before any upstream headers, else trailers), or the reset
 * code the upstream sent. A caller's reset or disconnect cancels the upstream stream (RST_STREAM CANCEL), and a
 * `grpc-timeout` that runs out at the proxy ends the call with DEADLINE_EXCEEDED. No other timer applies, so
 * long-lived and quiet streams live as long as both ends keep them.
 */
export function runGrpcCall(
  inbound: ServerHttp2Stream,
  headers: OutgoingHttpHeaders,
  requestId: string,
  hooks: GrpcCallHooks,
): void {
  let outbound: ClientHttp2Stream | undefined;
  let settled = false; // the final status is decided (forwarded or proxy-made)
  let pendingTrailers: OutgoingHttpHeaders | undefined;
  let upstreamTrailers: OutgoingHttpHeaders | undefined;
  let upstreamError: (Error & { code?: string }) | undefined;
  let timer: NodeJS.Timeout | undefined;

  inbound.on('error', () => undefined); // the caller went away; 'close' below does the work

  const fail = (code: number, reason: Parameters<GrpcCallHooks['onUpstreamFailure']>[0]): void => {
    if (settled) return;
    settled = true;
    hooks.onUpstreamFailure(reason);
    hooks.onStatus(code);
    if (!inbound.headersSent) {
      respondTrailersOnly(inbound, code, requestId);
    } else if (!inbound.writableEnded && !inbound.destroyed) {
      // Headers went out already: end the body where it is and carry the status in trailers.
      outbound?.unpipe(inbound);
      pendingTrailers = { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(grpcMessageOf(code)) };
      inbound.end();
    }
    if (outbound !== undefined && !outbound.closed) outbound.close(NGHTTP2_CANCEL);
  };

  try {
    outbound = hooks.openUpstream(headers);
  } catch (err) {
    fail(GrpcStatus.UNAVAILABLE, classifySessionError(err as Error));
    return;
  }
  const upstream = outbound;

  const timeoutMs = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined);
  if (timeoutMs !== undefined && timeoutMs <= MAX_DURATION_MS) {
    timer = setTimeout(() => fail(GrpcStatus.DEADLINE_EXCEEDED, 'timeout'), Math.ceil(timeoutMs));
  }

  inbound.pipe(upstream);

  upstream.on('response', (responseHeaders, flags) => {
    if (settled || inbound.destroyed || inbound.closed) return;
    const out: OutgoingHttpHeaders = relayableHeaderObject(responseHeaders, { keepStatus: true });
    if (out['x-request-id'] === undefined) out['x-request-id'] = requestId;
    try {
      if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
        // Trailers-only (status in the only HEADERS frame): passed on as one frame, as the caller expects.
        settled = true;
        hooks.onStatus(statusIn(responseHeaders) ?? GrpcStatus.UNKNOWN);
        inbound.respond(out, { endStream: true });
        return;
      }
      inbound.respond(out, { waitForTrailers: true });
    } catch {
      fail(GrpcStatus.INTERNAL, 'other');
      return;
    }
    // Not ended by the pipe: an upstream reset also ends the readable side first, and only 'close' tells the two apart.
    upstream.pipe(inbound, { end: false });
  });
  upstream.on('trailers', (trailers) => {
    upstreamTrailers = relayableHeaderObject(trailers);
  });
  const endResponse = (): void => {
    if (inbound.headersSent && !inbound.writableEnded && !inbound.destroyed) inbound.end(); // 'wantTrailers' follows
  };
  upstream.on('end', () => {
    // Trailers arrived: a complete response, ended now (not at 'close', which waits for our side of the stream too).
    if (settled || upstreamTrailers === undefined) return;
    settled = true;
    endResponse();
  });
  // node:http2's compatibility response (fastify's reply.raw) listens too and would send its own, empty trailers.
  inbound.removeAllListeners('wantTrailers');
  inbound.on('wantTrailers', () => {
    let trailers = pendingTrailers ?? upstreamTrailers;
    if (trailers === undefined) {
      // An upstream that ends a gRPC response without a status: the caller would conclude INTERNAL anyway.
      hooks.onStatus(GrpcStatus.INTERNAL);
      trailers = {
        'grpc-status': String(GrpcStatus.INTERNAL),
        'grpc-message': encodeGrpcMessage('upstream response carried no grpc-status'),
      };
    } else if (pendingTrailers === undefined) {
      hooks.onStatus(statusIn(trailers as IncomingHttpHeaders) ?? GrpcStatus.UNKNOWN);
    }
    settled = true;
    try {
      inbound.sendTrailers(trailers);
    } catch {
      inbound.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  });

  upstream.on('error', (err: Error & { code?: string }) => {
    upstreamError = err;
  });
  upstream.on('close', () => {
    if (settled || inbound.destroyed || inbound.closed) return;
    const rst = upstream.rstCode ?? NGHTTP2_NO_ERROR;
    if (upstream.readableEnded && rst === NGHTTP2_NO_ERROR && upstreamError === undefined) {
      endResponse(); // ended without trailers: 'wantTrailers' supplies a status
      return;
    }
    if (upstreamError !== undefined && upstreamError.code !== 'ERR_HTTP2_STREAM_ERROR') {
      fail(GrpcStatus.UNAVAILABLE, classifySessionError(upstreamError)); // the session died or never came up
    } else if (rst === NGHTTP2_REFUSED_STREAM || rst === NGHTTP2_NO_ERROR) {
      fail(GrpcStatus.UNAVAILABLE, 'reset'); // REFUSED_STREAM: the upstream did not process it, safe to retry
    } else {
      // The upstream reset the stream: the caller sees the same reset (CANCEL → CANCELLED, others → INTERNAL…).
      settled = true;
      hooks.onStatus(grpcStatusForReset(rst));
      inbound.close(rst);
    }
  });

  // Prepended: the compatibility response emits 'finish' (fastify's onResponse, the access line) from its own
  // 'close' listener, and the status must be noted before that.
  inbound.prependListener('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    if (!settled) {
      settled = true;
      hooks.onStatus(GrpcStatus.CANCELLED); // the caller cancelled or its connection is gone
      hooks.onCallerGone();
    }
    if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
  });
}
