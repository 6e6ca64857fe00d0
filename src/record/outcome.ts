// The one place an exchange's outcome is recorded (access line, request metrics, gRPC calls, upstream errors), for
// every forwarding kind and every refusal.
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { methodLabel, type Metrics } from '../ops/metrics.js';
import { logAccess } from './access-log.js';
import type { ExchangeReply, ExchangeRequest } from './exchange-reply.js';
import { contextOf, type RequestContext } from './request-context.js';

/** A caller that went away before its exchange ended (nginx's convention). */
export const CALLER_GONE = 499;

export interface OutcomeRecorder {
  /**
   * One access line and the request metrics for an exchange, once: an exchange can end by more than one path (a
   * caller that aborts after its answer was written; an error answer attempted after the abort was recorded), and
   * the first wins.
   */
  record(request: ExchangeRequest, reply: ExchangeReply, status: number): void;
  /** The exchange the context belongs to ended with `status` (forwarded, 502/504, or 499 for a caller gone). */
  recordExchange(ctx: RequestContext, status: number): void;
  /**
   * The upstream failed (a bounded reason: timeout, refused, reset, tls, other): counted in upstream_errors_total
   * and kept as the access line's `reason`, once per exchange and never after the exchange was recorded; the status is
   * recorded when the caller's answer (502, 504, a gRPC status, or a cut) is decided.
   */
  noteUpstreamFailure(ctx: RequestContext, reason: string): void;
}

const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** Bounded label: the canonical name of a gRPC code, UNKNOWN for anything outside 0–16 (as gRPC clients read it). */
export function grpcCodeLabel(code: number): string {
  return CODE_NAMES[code] ?? 'UNKNOWN';
}

const CALLS_METRIC = 'mtls_sidecar_grpc_calls_total';

/** `mtls_sidecar_grpc_calls_total{grpc_code}` on the injected registry (found again, not duplicated, on a rebuild). */
function grpcCallsCounter(registry: Registry): Counter<'grpc_code'> {
  const existing = registry.getSingleMetric(CALLS_METRIC);
  if (existing) return existing as Counter<'grpc_code'>;
  const counter = new Counter({
    name: CALLS_METRIC,
    help: 'gRPC calls answered, by the grpc-status the caller received (proxy refusals included)',
    labelNames: ['grpc_code'],
    registers: [registry],
  });
  for (const name of ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'PERMISSION_DENIED', 'INTERNAL', 'UNAVAILABLE'])
    counter.inc({ grpc_code: name }, 0);
  return counter;
}

export function createOutcomeRecorder(deps: { metrics: Metrics; log: Logger }): OutcomeRecorder {
  const { metrics, log } = deps;
  const calls = grpcCallsCounter(metrics.registry);

  const record = (request: ExchangeRequest, reply: ExchangeReply, status: number): void => {
    const ctx = contextOf(request);
    if (ctx !== undefined) {
      if (ctx.recorded === true) return;
      ctx.recorded = true;
      ctx.forwarding = false;
    }
    const method = request.raw.method ?? '';
    metrics.requests.inc({ method: methodLabel(method), code: String(status) });
    metrics.requestDuration.observe(reply.elapsedTime / 1000);
    if (ctx?.grpcStatus !== undefined) calls.inc({ grpc_code: grpcCodeLabel(ctx.grpcStatus) });
    const identity = ctx?.conn?.identity;
    logAccess(log, {
      requestId: ctx?.requestId ?? '',
      method,
      path: ctx?.path ?? '',
      status,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      subject: identity?.subject,
      uri: identity?.uris[0],
      serial: identity?.serial,
      issuer: identity?.issuer,
      decision: ctx?.decision ?? 'none',
      route: ctx?.route ?? undefined,
      rule: ctx?.rule,
      reason: ctx?.upstreamError ?? ctx?.refusal,
      ...(ctx?.grpcStatus === undefined ? {} : { grpcStatus: ctx.grpcStatus }),
    });
  };

  return {
    record,
    recordExchange: (ctx, status) => record(ctx.reply.request, ctx.reply, status),
    noteUpstreamFailure(ctx, reason) {
      if (ctx.recorded === true || ctx.upstreamError !== undefined) return;
      ctx.upstreamError = reason;
      metrics.upstreamErrors.inc({ reason });
    },
  };
}
