// The listener's direct path: a request that is plainly allowed and forwarded by the HTTP/1.1 forwarder is judged and
// dispatched upstream here, without fastify. Every other request (every refusal, draining, gRPC, WebSocket, odd
// targets) is left untouched for fastify, which judges it as always.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import type { Logger } from 'pino';
import { isGrpcContentType } from '../http/grpc-status.js';
import type { DirectAdmission } from '../judgement/direct-admission.js';
import { DirectReply } from '../record/direct-reply.js';
import { CALLER_GONE, type OutcomeRecorder } from '../record/outcome.js';
import type { RequestContext } from '../record/request-context.js';
import type { HttpForwarder } from '../upstream/forward-http.js';
import { answerPipelineFailure } from '../upstream/pipeline-failure.js';
import { routesToCatchAll } from './forwarded-routes.js';
import { afterResetWindow } from './rapid-reset.js';

export interface DirectPathDeps {
  admission: DirectAdmission;
  forwarder: HttpForwarder;
  outcomes: OutcomeRecorder;
  log: Logger;
  /** True once fastify is closing: its routing then asks HTTP/1.1 callers to close, so requests go there. */
  isClosing(): boolean;
}

/** Serves the request and returns true, or returns false having done nothing at all. */
export type DirectPath = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => boolean;

/** Requests a plain fastify route could take: not gRPC (its own hook), not an upgrade (the tunnel's event). */
function plainForwardable(req: IncomingMessage | Http2ServerRequest): boolean {
  return (
    routesToCatchAll(req.method, req.url) &&
    !isGrpcContentType(req.headers['content-type']) &&
    (req as { upgrade?: boolean }).upgrade !== true
  );
}

export function createDirectPath(deps: DirectPathDeps): DirectPath {
  const { admission, forwarder, outcomes, log } = deps;

  // As fastify's error handler and onResponse hook would: a fixed 500 (or a cut), recorded unless the relay owns it.
  const forward = (ctx: RequestContext): void => {
    try {
      forwarder.forward(ctx);
    } catch (err) {
      const reply = ctx.reply;
      answerPipelineFailure(reply.request, reply, err, log);
      if (ctx.forwarding !== true) outcomes.record(reply.request, reply, reply.raw.statusCode);
    }
  };

  return function serveDirect(req, res) {
    const startedAt = performance.now();
    if (!plainForwardable(req) || deps.isClosing()) return false;
    const stream = (req as { stream?: ServerHttp2Stream }).stream;
    const judged = admission.judge(req, stream === undefined ? 'h1' : 'h2');
    if (judged === null) return false;
    const reply = new DirectReply(req, res, startedAt);
    const ctx = admission.admit(reply, judged);
    if (stream === undefined) {
      forward(ctx);
      return true;
    }
    // HTTP/2: a stream reset in the same flight starts nothing upstream (createResetStreamGuard, for fastify's path).
    afterResetWindow(
      stream,
      () => forward(ctx),
      () => {
        reply.hijack();
        outcomes.record(reply.request, reply, CALLER_GONE);
      },
    );
    return true;
  };
}
