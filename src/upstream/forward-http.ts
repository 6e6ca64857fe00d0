// Forwards an authorized request to the upstream over undici and relays the answer straight into the caller's response.
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { FastifyRequest } from 'fastify';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { hasHttp1Body } from '../http/message-body.js';
import type { OutcomeRecorder } from '../record/outcome.js';
import { contextOf, type RequestContext } from '../record/request-context.js';
import { forwardedHostOf } from '../http/host-header.js';
import { relayableResponseHeaders } from './response-headers.js';
import { ResponseRelay, type UpstreamError } from './response-relay.js';
import type { Upstream } from './upstream.js';

export interface HttpForwarderDeps {
  outcomes: OutcomeRecorder;
  /** The operator's extra header names to remove (`--strip-header`). */
  stripHeaders?: ReadonlySet<string>;
}

/** One exchange, as an undici dispatch handler (undici's native callback interface: no intermediate body stream). */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly relay: ResponseRelay;
  private resume: () => void = () => undefined;

  constructor(ctx: RequestContext, outcomes: OutcomeRecorder) {
    this.relay = new ResponseRelay(ctx, outcomes);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.relay.cancelUpstream = () => abort();
    if (this.relay.done) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.relay.done) return false;
    if (statusCode < 200) return true; // informational answers (103…) stay with this hop
    this.resume = resume;
    return this.relay.head(statusCode, relayableResponseHeaders(rawHeaders));
  }

  onData(chunk: Buffer): boolean {
    return this.relay.write(chunk, this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.resume();
  };

  onComplete(): void {
    this.relay.complete();
  }

  onError(err: UpstreamError): void {
    this.relay.fail(err);
  }
}

/**
 * Whether the request has a body to stream. HTTP/1.1 frames it with Content-Length or Transfer-Encoding; an HTTP/2
 * request has one unless its stream ended with the headers (a length header is optional there).
 */
function hasRequestBody(ctx: RequestContext, raw: IncomingMessage): boolean {
  const stream = ctx.h2Stream;
  if (stream !== undefined) return !stream.endAfterHeaders && raw.headers['content-length'] !== '0';
  return hasHttp1Body(raw.headers);
}

export interface HttpForwarder {
  /** fastify route handler: forwards the request the authorize hook allowed (path already normalized in raw.url). */
  handle(request: FastifyRequest): void;
  /** Forwards the allowed exchange of `ctx`, whichever path admitted it (its raw.url already the judged target). */
  forward(ctx: RequestContext): void;
}

export function createHttpForwarder(upstream: Upstream, deps: HttpForwarderDeps): HttpForwarder {
  const { pool, target } = upstream;
  const forward = (ctx: RequestContext): void => {
    // Unreachable while only allowed requests are admitted here; fail closed if the wiring ever changes.
    if (ctx.conn === undefined || ctx.decision !== 'allow')
      throw new Error('unverified request reached the proxy stage');
    const raw = ctx.reply.request.raw;
    const headers = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
      remoteAddress: ctx.conn.remoteAddress,
      host: forwardedHostOf(raw.headers),
      requestId: ctx.requestId,
      strip: deps.stripHeaders,
    });
    // undici frames the body itself (Content-Length when given, else chunked) and refuses these as request headers.
    delete headers['transfer-encoding'];
    delete headers.upgrade;
    headers.host = target.authority;
    const method = raw.method ?? 'GET';
    pool.dispatch(
      { method, path: raw.url ?? '/', headers, body: hasRequestBody(ctx, raw) ? raw : null },
      new Exchange(ctx, deps.outcomes),
    );
  };
  return {
    handle(request) {
      const ctx = contextOf(request);
      if (ctx === undefined) throw new Error('unverified request reached the proxy stage');
      forward(ctx);
    },
    forward,
  };
}
