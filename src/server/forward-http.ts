// Forwards an authorized request to the upstream over undici and relays the answer straight into the caller's response.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { upstreamFailure } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import { forwardedHostOf, sendErrorReply } from './authorize-hook.js';
import { contextOf, type RequestContext } from './request-context.js';
import { stripHopByHopResponseHeaders } from './response-headers.js';
import type { UpstreamPool } from './upstream.js';

export interface HttpForwarderDeps {
  metrics: Metrics;
  /** Records an exchange once (access line + metrics); used for callers that leave mid-answer. */
  record(request: FastifyRequest, reply: FastifyReply, status: number): void;
}

type UpstreamError = Error & { code?: string; statusCode?: number; cause?: unknown };

function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The header object for `writeHead`: the upstream's names lower-cased, values as received, hop-by-hop ones gone. */
function responseHeaders(rawHeaders: Buffer[]): IncomingHttpHeaders {
  const parsed: IncomingHttpHeaders = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as Buffer).toString('latin1').toLowerCase();
    const value = (rawHeaders[i + 1] as Buffer).toString('latin1');
    const prev = parsed[name];
    if (prev === undefined) parsed[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else parsed[name] = [prev, value];
  }
  return stripHopByHopResponseHeaders(parsed);
}

/**
 * One exchange, as an undici dispatch handler (undici's native callback interface: no intermediate body stream).
 * Until the upstream's response head arrives, failures get the fixed 502/504 bodies through fastify; from then on the
 * reply is taken over and the body is written as it arrives, with backpressure both ways. A body cut mid-way cuts the
 * caller's response too: a short body must never look complete.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private streaming = false;
  private readonly res: ServerResponse;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly ctx: RequestContext,
    private readonly deps: HttpForwarderDeps,
  ) {
    this.res = reply.raw;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // informational answers (103…) stay with this hop
    const res = this.res;
    const raw = this.request.raw;
    if (raw.aborted || res.destroyed) {
      // The caller left before the answer: nobody to relay to (its 499 is recorded by the abort hook).
      this.abortUpstream?.();
      return false;
    }
    this.reply.hijack();
    this.streaming = true;
    // From here fastify's abort hook no longer sees this exchange; a caller gone mid-answer is recorded here.
    res.once('close', () => {
      if (res.writableFinished) return;
      this.abortUpstream?.();
      this.deps.record(this.request, this.reply, 499);
    });
    this.resumeUpstream = resume;
    const headers = responseHeaders(rawHeaders);
    if (headers['x-request-id'] === undefined) headers['x-request-id'] = this.ctx.requestId;
    // An HTTP/1.1 connection cannot carry another request until this one's body was read in full.
    if (raw.httpVersionMajor === 1 && !raw.complete) headers.connection = 'close';
    try {
      res.writeHead(statusCode, headers);
    } catch {
      // A status or header value Node refuses to write: the caller sees a cut connection, not a made-up answer.
      this.abortUpstream?.();
      res.destroy();
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  private readonly onDrain = (): void => {
    this.resumeUpstream?.();
  };

  onComplete(): void {
    this.res.end();
  }

  onError(err: UpstreamError): void {
    if (this.streaming) {
      this.res.destroy();
      return;
    }
    // A caller that left mid-body cuts the upstream request too; that is its abort (499), not an upstream failure.
    if (this.request.raw.aborted) {
      this.deps.record(this.request, this.reply, 499);
      return;
    }
    const { reason, reply: body } = upstreamFailure(err, this.ctx.requestId);
    this.ctx.upstreamError = reason;
    this.deps.metrics.upstreamErrors.inc({ reason });
    sendErrorReply(this.reply, body, this.ctx.requestId);
  }
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
      });
      // undici frames the body itself (Content-Length when given, else chunked) and refuses these as request headers.
      delete headers['transfer-encoding'];
      delete headers.upgrade;
      headers.host = host;
      const method = raw.method ?? 'GET';
      pool.dispatch(
        { method, path: raw.url ?? '/', headers, body: hasRequestBody(raw.headers) ? raw : null },
        new Exchange(request, reply, ctx, deps),
      );
    },
    // Called once every caller connection is gone (finished or cut at the grace deadline): nobody is left to answer.
    close: () => pool.destroy(),
  };
}
