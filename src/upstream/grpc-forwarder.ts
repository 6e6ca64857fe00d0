// gRPC end to end: an onRequest hook, after authorization, that takes over gRPC calls and forwards them over node:http2.
import type { Http2ServerRequest } from 'node:http2';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import type { Metrics } from '../ops/metrics.js';
import { tooManyStreams } from '../http/error-replies.js';
import { forwardedHostOf, sendErrorReply } from '../server/authorize-hook.js';
import { buildUpstreamCallHeaders, runGrpcCall } from './grpc-call.js';
import { forwardOverH2, isPlainHttpRequest } from './grpc-h2-http.js';
import { GrpcStatus, grpcStatusOf, isGrpcContentType, noteGrpcStatus, sendGrpcRefusal } from '../server/grpc-status.js';
import { createUpstreamSessions, type UpstreamSessions } from './grpc-upstream.js';
import { answerPipelineFailure } from './pipeline-failure.js';
import { contextOf } from '../record/request-context.js';

export interface GrpcForwardingDeps {
  metrics: Metrics;
  log: Logger;
}

const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
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
  for (const name of ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'PERMISSION_DENIED', 'INTERNAL', 'UNAVAILABLE']) counter.inc({ grpc_code: name }, 0);
  return counter;
}

/** gRPC has no HTTP/1.1 mapping: an HTTP/1.1 request with a gRPC content type is refused, plainly. */
function refuseHttp1(reply: FastifyReply, requestId: string): void {
  reply
    .code(505)
    .header('content-type', 'application/json; charset=utf-8')
    .header('x-request-id', requestId)
    .send(JSON.stringify({ error: 'grpc_requires_http2', requestId }));
}

function forwardCall(request: FastifyRequest, upstream: UpstreamSessions, metrics: Metrics, strip: ReadonlySet<string>): void {
  const ctx = contextOf(request);
  const raw = request.raw as unknown as Http2ServerRequest;
  if (ctx === undefined || ctx.conn === undefined) return; // checked by the caller; kept for the types
  const composed = composeUpstreamHeaders(raw.headers, ctx.conn.identityHeaders, {
    remoteAddress: ctx.conn.remoteAddress,
    host: forwardedHostOf(raw.headers),
    requestId: ctx.requestId,
    strip,
  });
  // raw.url is the normalized path the policy judged (set by the authorize hook), plus the untouched query.
  const headers = buildUpstreamCallHeaders(composed, { method: raw.method, path: raw.url, scheme: upstream.scheme, authority: upstream.authority });
  const owner = ctx.conn;
  runGrpcCall(raw.stream, headers, ctx.requestId, {
    openUpstream: (h) => upstream.request(h, owner),
    onStatus: (code) => noteGrpcStatus(request, code),
    onUpstreamFailure: (reason) => {
      ctx.upstreamError = reason;
      metrics.upstreamErrors.inc({ reason });
    },
  });
}

/**
 * Registers gRPC forwarding on `app`. Must be called after the authorize hook is added: hooks run in order, and this
 * one only sees requests the authorize hook let through (decision `allow`, normalized path in `raw.url`). Other
 * requests pass on to the HTTP/1.1 proxy, or with `--upstream-protocol h2` (WebSocket handshakes excepted) ride the
 * same HTTP/2 upstream session.
 */
export function registerGrpcForwarding(app: FastifyInstance, config: Config, deps: GrpcForwardingDeps): void {
  const upstream = createUpstreamSessions(config);
  const calls = grpcCallsCounter(deps.metrics.registry);

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!isGrpcContentType(request.raw.headers['content-type'])) {
      const plainCtx = contextOf(request);
      if (config.upstreamProtocol === 'h2' && isPlainHttpRequest(request) && plainCtx?.decision === 'allow') {
        try {
          forwardOverH2(request, reply, upstream, config, deps.metrics);
        } catch (err) {
          answerPipelineFailure(request, reply, err, deps.log);
        }
        return;
      }
      done();
      return;
    }
    const ctx = contextOf(request);
    const requestId = ctx?.requestId ?? '';
    if (ctx?.transport !== 'h2') {
      refuseHttp1(reply, requestId);
      return;
    }
    if (ctx?.decision !== 'allow' || ctx.conn === undefined) {
      // Unreachable while the authorize hook runs first; fail closed if the wiring ever changes.
      noteGrpcStatus(request, GrpcStatus.INTERNAL);
      sendGrpcRefusal(reply, 500, requestId);
      return;
    }
    if (upstream.callerAtLimit(ctx.conn)) {
      sendErrorReply(reply, tooManyStreams(requestId), requestId); // RESOURCE_EXHAUSTED, trailers-only
      return;
    }
    reply.hijack();
    try {
      forwardCall(request, upstream, deps.metrics, config.stripHeaders);
    } catch (err) {
      answerPipelineFailure(request, reply, err, deps.log);
    }
  });

  app.addHook('onResponse', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const code = grpcStatusOf(request);
    if (code !== undefined) calls.inc({ grpc_code: grpcCodeLabel(code) });
    done();
  });

  app.addHook('onClose', (_instance: FastifyInstance, done: HookHandlerDoneFunction): void => {
    upstream.close();
    done();
  });
}
