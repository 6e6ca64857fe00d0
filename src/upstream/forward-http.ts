// Forwards an authorized request to the upstream over undici and relays the answer straight into the caller's response.
import type { ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { Dispatcher } from 'undici';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { upstreamFailure } from '../http/error-replies.js';
import { h2StreamOf, hasHttp1Body } from '../http/message-body.js';
import type { Metrics } from '../ops/metrics.js';
import { forwardedHostOf, sendErrorReply } from '../server/authorize-hook.js';
import { contextOf, type RequestContext } from '../record/request-context.js';
import { relayableResponseHeaders } from './response-headers.js';
import type { UpstreamPool } from './upstream.js';

export interface HttpForwarderDeps {
  metrics: Metrics;
  /** Records an exchange once (access line + metrics); used for callers that leave mid-answer. */
  record(request: FastifyRequest, reply: FastifyReply, status: number): void;
  /** The operator's extra header names to remove (`--strip-header`). */
  stripHeaders?: ReadonlySet<string>;
}

type UpstreamError = Error & { code?: string; statusCode?: number; cause?: unknown };

/**
 * One exchange, as an undici dispatch handler (undici's native callback interface: no intermediate body stream).
 * Until the upstream's response head arrives, failures get the fixed 502/504 bodies through fastify; from then on the
 * reply is taken over and the body is written as it arrives, with backpressure both ways. While the exchange is in
 * flight it records itself (fastify's onResponse leaves it alone, see `forwarding`): a caller gone before the end is
 * 499 and stops the upstream request; an upstream that breaks off mid-body is 502 and cuts the caller's response,
 * since a short body must never look complete.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private streaming = false;
  private done = false;
  private readonly res: ServerResponse;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly ctx: RequestContext,
    private readonly deps: HttpForwarderDeps,
  ) {
    this.res = reply.raw;
    ctx.forwarding = true;
    this.res.once('close', this.onCallerClose);
  }

  /** Ends the exchange's own bookkeeping; later events (a late close, a late error) change nothing. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.ctx.forwarding = false;
    return true;
  }

  private readonly onCallerClose = (): void => {
    if (this.done) return;
    // Closed before the exchange ended (HTTP/2 reports a reset stream as finished; `done` is what counts here).
    this.finish();
    this.abortUpstream?.();
    this.deps.record(this.request, this.reply, 499);
  };

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.done) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.done) return false;
    if (statusCode < 200) return true; // informational answers (103…) stay with this hop
    const res = this.res;
    this.reply.hijack();
    this.streaming = true;
    this.resumeUpstream = resume;
    const headers = relayableResponseHeaders(rawHeaders);
    if (headers['x-request-id'] === undefined) headers['x-request-id'] = this.ctx.requestId;
    // An HTTP/1.1 connection cannot carry another request until this one's body was read in full.
    const raw = this.request.raw;
    if (this.ctx.transport === 'h1' && !raw.complete) headers.connection = 'close';
    try {
      res.writeHead(statusCode, headers);
    } catch {
      // A status or header value Node refuses to write: the caller sees a cut, never a made-up answer.
      this.failMidway('other');
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  private readonly onDrain = (): void => {
    this.resumeUpstream?.();
  };

  onComplete(): void {
    if (!this.finish()) return;
    this.res.end();
    // The exchange with the upstream is over: recorded now, not when the caller's connection lets the last bytes go
    // (a broken HTTP/2 session may never flush them; fastify's onResponse finds it recorded).
    this.deps.record(this.request, this.reply, this.res.statusCode);
  }

  onError(err: UpstreamError): void {
    if (this.done) return; // the caller left first (499 recorded), which is what cut the upstream request
    const { reason, reply: body } = upstreamFailure(err, this.ctx.requestId);
    if (this.streaming) {
      this.failMidway(reason);
      return;
    }
    this.finish();
    this.ctx.upstreamError = reason;
    this.deps.metrics.upstreamErrors.inc({ reason });
    sendErrorReply(this.reply, body, this.ctx.requestId);
    this.deps.record(this.request, this.reply, body.status);
  }

  /** The answer's head is out and cannot be taken back: record 502, then cut the caller's connection or stream. */
  private failMidway(reason: string): void {
    if (!this.finish()) return;
    this.ctx.upstreamError = reason;
    this.deps.metrics.upstreamErrors.inc({ reason });
    this.deps.record(this.request, this.reply, 502);
    this.abortUpstream?.();
    cutResponse(this.res);
  }
}

/**
 * Cuts a response whose head was sent. HTTP/1.1: the connection is destroyed (no terminating chunk, or fewer bytes
 * than Content-Length). HTTP/2: the stream is reset with INTERNAL_ERROR; destroying the compat response would reset
 * it with NO_ERROR, which a client reads as a normal end.
 */
function cutResponse(res: ServerResponse): void {
  const stream = h2StreamOf(res);
  if (stream !== undefined) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}

/**
 * Whether the request has a body to stream. HTTP/1.1 frames it with Content-Length or Transfer-Encoding; an HTTP/2
 * request has one unless its stream ended with the headers (a length header is optional there).
 */
function hasRequestBody(raw: FastifyRequest['raw']): boolean {
  const stream = h2StreamOf(raw);
  if (stream !== undefined) return !stream.endAfterHeaders && raw.headers['content-length'] !== '0';
  return hasHttp1Body(raw.headers);
}

export interface HttpForwarder {
  /** fastify route handler: forwards the request the authorize hook allowed (path already normalized in raw.url). */
  handle(request: FastifyRequest, reply: FastifyReply): void;
  /** Drops the upstream connections, in-flight requests included. */
  close(): Promise<void>;
}

export function createHttpForwarder(upstream: UpstreamPool, deps: HttpForwarderDeps): HttpForwarder {
  const { pool, host } = upstream;
  return {
    handle(request, reply) {
      const ctx = contextOf(request);
      // Unreachable while the authorize hook runs first; fail closed if the wiring ever changes.
      if (ctx === undefined || ctx.conn === undefined || ctx.decision !== 'allow') throw new Error('unverified request reached the proxy stage');
      const raw = request.raw;
      const headers = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
        remoteAddress: ctx.conn.remoteAddress,
        host: forwardedHostOf(raw.headers),
        requestId: ctx.requestId,
        strip: deps.stripHeaders,
      });
      // undici frames the body itself (Content-Length when given, else chunked) and refuses these as request headers.
      delete headers['transfer-encoding'];
      delete headers.upgrade;
      headers.host = host;
      const method = raw.method ?? 'GET';
      pool.dispatch(
        { method, path: raw.url ?? '/', headers, body: hasRequestBody(raw) ? raw : null },
        new Exchange(request, reply, ctx, deps),
      );
    },
    // Called once every caller connection is gone (finished or cut at the grace deadline): nobody is left to answer.
    close: () => pool.destroy(),
  };
}
