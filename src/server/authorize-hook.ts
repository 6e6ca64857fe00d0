// The onRequest gate: request id, path safety (400), revocation and policy on the current snapshot (403).
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { acceptOrGenerateRequestId } from '../http/request-id.js';
import { normalizePath } from '../http/normalize-path.js';
import { badRequest, forbidden, type ErrorReply } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import { refreshRevocation, verifiedConnectionOf } from '../tls/connection-gate.js';
import type { SnapshotStore } from './snapshot.js';
import { setContext, type RequestContext } from './request-context.js';

export function sendErrorReply(reply: FastifyReply, err: ErrorReply, requestId: string): void {
  reply.code(err.status).header('content-type', 'application/json; charset=utf-8').header('x-request-id', requestId).send(err.body);
}

export function createAuthorizeHook(deps: { store: SnapshotStore; metrics: Metrics }) {
  const { store, metrics } = deps;
  return function authorize(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    const requestId = acceptOrGenerateRequestId(raw.headers['x-request-id']);
    const conn = verifiedConnectionOf(raw.socket);
    const ctx: RequestContext = { requestId, path: '', conn, decision: 'no_identity', rule: null, route: null };
    setContext(request, ctx);
    if (conn === undefined) {
      // Fail closed: a request from a connection without a verified certificate is never answered or forwarded.
      metrics.authzDecisions.inc({ decision: 'no_identity' });
      reply.hijack();
      raw.socket.destroy();
      return;
    }
    const normalized = normalizePath(raw.url ?? '');
    if (!normalized.ok) {
      ctx.decision = 'bad_request';
      ctx.path = (raw.url ?? '').split('?', 1)[0] ?? '';
      metrics.authzDecisions.inc({ decision: 'bad_request' });
      sendErrorReply(reply, badRequest(requestId), requestId);
      return;
    }
    ctx.path = normalized.path;
    if (refreshRevocation(conn, store)) {
      ctx.decision = 'revoked';
      metrics.authzDecisions.inc({ decision: 'deny' });
      sendErrorReply(reply, forbidden(requestId), requestId);
      return;
    }
    const decision = store.current.policy.decide(raw.method ?? 'GET', normalized.path, conn.identity);
    ctx.route = decision.route;
    ctx.rule = decision.rule;
    if (!decision.allowed) {
      ctx.decision = 'deny';
      metrics.authzDecisions.inc({ decision: 'deny' });
      sendErrorReply(reply, forbidden(requestId), requestId);
      return;
    }
    ctx.decision = 'allow';
    metrics.authzDecisions.inc({ decision: 'allow' });
    // The path the policy judged is exactly the path forwarded; the query goes through untouched.
    raw.url = normalized.path + normalized.query;
    reply.header('x-request-id', requestId);
    done();
  };
}
