// The caller's side of a forwarded HTTP exchange, whatever carries it upstream (undici over HTTP/1.1, or an HTTP/2
// stream): one place decides 2xx…, 499, 502 with reason and 504.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { upstreamFailure } from '../http/error-replies.js';
import { CALLER_GONE, type OutcomeRecorder } from '../record/outcome.js';
import type { RequestContext } from '../record/request-context.js';
import { sendErrorReply } from '../record/error-reply.js';

export type UpstreamError = Error & { code?: string; statusCode?: number; cause?: unknown };

/**
 * Until the upstream's response head arrives, failures get the fixed 502/504 bodies through fastify; from then on
 * the reply is taken over and the body is written as it arrives, with backpressure both ways. While the exchange is
 * in flight it records itself (fastify's onResponse leaves it alone, see `forwarding`): a caller gone before the
 * end is 499 and stops the upstream request; an upstream that breaks off mid-body is 502 and cuts the caller's
 * response, since a short body must never look complete.
 */
export class ResponseRelay {
  /** Stops the upstream request (set by the carrier once it has one). */
  cancelUpstream: (() => void) | null = null;
  private streaming = false;
  private ended = false;
  private readonly res: ServerResponse;

  constructor(
    private readonly ctx: RequestContext,
    private readonly outcomes: OutcomeRecorder,
  ) {
    this.res = ctx.reply.raw;
    ctx.forwarding = true;
    this.res.once('close', this.onCallerClose);
  }

  /** True once the exchange ended (answered, failed or abandoned): later upstream events change nothing. */
  get done(): boolean {
    return this.ended;
  }

  private finish(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.ctx.forwarding = false;
    return true;
  }

  private readonly onCallerClose = (): void => {
    if (this.ended) return;
    // Closed before the exchange ended (HTTP/2 reports a reset stream as finished; `ended` is what counts here).
    this.finish();
    this.cancelUpstream?.();
    this.outcomes.recordExchange(this.ctx, CALLER_GONE);
  };

  /** The upstream's response head, already filtered by the relay policy. False when it could not be written. */
  head(statusCode: number, headers: IncomingHttpHeaders): boolean {
    if (this.ended) return false;
    this.ctx.reply.hijack();
    this.streaming = true;
    if (headers['x-request-id'] === undefined) headers['x-request-id'] = this.ctx.requestId;
    // An HTTP/1.1 connection cannot carry another request until this one's body was read in full.
    if (this.ctx.transport === 'h1' && !this.ctx.reply.request.raw.complete) headers.connection = 'close';
    try {
      this.res.writeHead(statusCode, headers as OutgoingHttpHeaders);
    } catch {
      // A status or header value Node refuses to write: the caller sees a cut, never a made-up answer.
      this.failMidway('other');
      return false;
    }
    return true;
  }

  /** Writes a body chunk; false asks the carrier to pause until `resume` is called. */
  write(chunk: Buffer, resume: () => void): boolean {
    if (this.ended) return false;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', resume);
    return false;
  }

  /** The upstream's response ended in full (trailers passed on where the caller's protocol carries them). */
  complete(trailers?: IncomingHttpHeaders): void {
    if (!this.finish()) return;
    if (trailers !== undefined && Object.keys(trailers).length > 0)
      this.res.addTrailers(trailers as OutgoingHttpHeaders);
    this.res.end();
    // The exchange with the upstream is over: recorded now, not when the caller's connection lets the last bytes go
    // (a broken HTTP/2 session may never flush them; fastify's onResponse finds it recorded).
    this.outcomes.recordExchange(this.ctx, this.res.statusCode);
  }

  /** The upstream failed: the fixed 502/504 before its head was relayed, a recorded 502 and a cut after. */
  fail(err: UpstreamError): void {
    if (this.ended) return; // the caller left first (499 recorded), which is what cut the upstream request
    const { reason, reply: body } = upstreamFailure(err, this.ctx.requestId);
    if (this.streaming) {
      this.failMidway(reason);
      return;
    }
    this.finish();
    this.outcomes.noteUpstreamFailure(this.ctx, reason);
    this.cancelUpstream?.();
    sendErrorReply(this.ctx.reply, body, this.ctx.requestId);
    this.outcomes.recordExchange(this.ctx, body.status);
  }

  /** The answer's head is out and cannot be taken back: record 502, then cut the caller's connection or stream. */
  private failMidway(reason: string): void {
    if (!this.finish()) return;
    this.outcomes.noteUpstreamFailure(this.ctx, reason);
    this.outcomes.recordExchange(this.ctx, 502);
    this.cancelUpstream?.();
    cutResponse(this.ctx);
  }
}

/**
 * Cuts a response whose head was sent. HTTP/1.1: the connection is destroyed (no terminating chunk, or fewer bytes
 * than Content-Length). HTTP/2: the stream is reset with INTERNAL_ERROR; destroying the compat response would reset
 * it with NO_ERROR, which a client reads as a normal end.
 */
export function cutResponse(ctx: RequestContext): void {
  if (ctx.h2Stream !== undefined) ctx.h2Stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else ctx.reply.raw.destroy();
}
