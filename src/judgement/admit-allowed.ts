// What a verdict leaves on the exchange, on either path into the proxy (the authorize hook, the listener's direct
// path): the context's verdict fields, the decision metric's label, and the steps that let an allowed request in.
import type { IncomingMessage } from 'node:http';
import { hasHttp1Body } from '../http/message-body.js';
import type { RequestContext } from '../record/request-context.js';
import type { RequestVerdict } from './judge-request.js';

export interface BodyLimits {
  /** Caller inactivity while the request body is still arriving. */
  idleMs: number;
  /** Whole time allowed to receive the request body. */
  totalMs: number;
}

/** The metric label of a verdict: a revoked caller is denied like any other. */
export const DECISION_LABEL = { bad_request: 'bad_request', revoked: 'deny', deny: 'deny', allow: 'allow' } as const;

/** What the access log and the forwarders learn of the verdict. */
export function noteVerdict(ctx: RequestContext, verdict: RequestVerdict): void {
  ctx.decision = verdict.decision;
  ctx.path = verdict.path;
  if (verdict.decision === 'deny' || verdict.decision === 'allow') {
    ctx.route = verdict.route;
    ctx.rule = verdict.rule;
  }
  if (verdict.decision === 'deny') ctx.refusal = verdict.refusal;
}

/**
 * HTTP/1.1 has no limit of its own while a request body arrives (keep-alive and header timeouts only cover the
 * gaps around a request): a stalled or trickled body would hold a socket and an upstream connection forever.
 * Both limits end when the body is complete; the response side is bounded by the upstream timeouts.
 */
export function limitRequestBody(raw: IncomingMessage, limits: BodyLimits): void {
  const socket = raw.socket;
  socket.setTimeout(limits.idleMs);
  const deadline = setTimeout(() => socket.destroy(), limits.totalMs);
  raw.once('end', () => {
    clearTimeout(deadline);
    socket.setTimeout(0);
  });
  raw.once('close', () => clearTimeout(deadline));
  socket.once('close', () => clearTimeout(deadline));
}

function expectsContinue(headers: IncomingMessage['headers']): boolean {
  return headers.expect?.toLowerCase() === '100-continue';
}

/** An allowed request, not draining, is let in: body invited and bounded, target rewritten, request id answered. */
export function admitAllowed(ctx: RequestContext, forwardTarget: string, bodyLimits: BodyLimits | undefined): void {
  const reply = ctx.reply;
  const raw = reply.request.raw;
  // Admitted: only now is the caller invited to send the body it held back (no upstream hop carries Expect).
  if (expectsContinue(raw.headers)) reply.raw.writeContinue();
  // WebSocket tunnels manage their own lifetime; a request without a body is already complete.
  if (
    ctx.transport === 'h1' &&
    bodyLimits !== undefined &&
    hasHttp1Body(raw.headers) &&
    raw.headers.upgrade === undefined
  )
    limitRequestBody(raw, bodyLimits);
  // The path the policy judged is exactly the path forwarded; the query goes through untouched.
  raw.url = forwardTarget;
  reply.header('x-request-id', ctx.requestId);
}
