// judgeRequest for the listener's direct path: a request is taken there only when it is plainly allowed, and the
// judging leaves no trace until it is taken, so a request handed on to fastify is judged there as if first seen.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { VerifiedConnection } from '../gate/verified-connection.js';
import { acceptOrGenerateRequestId } from '../http/request-id.js';
import type { Metrics } from '../ops/metrics.js';
import type { ExchangeReply } from '../record/exchange-reply.js';
import { openRequestContext, type RequestContext, type Transport } from '../record/request-context.js';
import { admitAllowed, noteVerdict, type BodyLimits } from './admit-allowed.js';
import { judgeArrived, type JudgingStore } from './judge-arrived.js';
import type { RequestVerdict } from './judge-request.js';
import { connectionOf } from './request-head.js';

export type AllowVerdict = Extract<RequestVerdict, { decision: 'allow' }>;

export interface DirectVerdict {
  verdict: AllowVerdict;
  conn: VerifiedConnection;
}

export interface DirectAdmissionDeps {
  store: JudgingStore;
  metrics: Metrics;
  isDraining(): boolean;
  bodyLimits: BodyLimits;
}

export interface DirectAdmission {
  /**
   * The verdict on a request from a verified connection when it allows forwarding now (not draining); null for
   * anything else. Nothing is counted or changed (the connection's standing under the snapshot is memoized on it, as
   * every judgement does).
   */
  judge(raw: IncomingMessage | Http2ServerRequest, transport: Transport): DirectVerdict | null;
  /** Admits a request `judge` allowed, as the authorize hook admits one: context, decision metric, body, target. */
  admit(reply: ExchangeReply, judged: DirectVerdict): RequestContext;
}

export function createDirectAdmission(deps: DirectAdmissionDeps): DirectAdmission {
  const { store, metrics, bodyLimits } = deps;
  return {
    judge(raw, transport) {
      const conn = connectionOf(raw);
      if (conn === undefined) return null;
      const verdict = judgeArrived(raw, transport, conn, store, deps.isDraining());
      return verdict.decision === 'allow' && !verdict.draining ? { verdict, conn } : null;
    },
    admit(reply, { verdict, conn }) {
      const requestId = acceptOrGenerateRequestId(reply.request.raw.headers['x-request-id']);
      const ctx = openRequestContext(reply.request, reply, { requestId, conn });
      noteVerdict(ctx, verdict);
      metrics.authzDecisions.inc({ decision: 'allow' });
      admitAllowed(ctx, verdict.forwardTarget, bodyLimits);
      return ctx;
    },
  };
}
