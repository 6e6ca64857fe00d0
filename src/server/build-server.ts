// Wires the proxy: TLS listener (HTTP/2 + HTTP/1.1), connection gate, authorize hook, undici forwarding, WebSocket tunnels, fixed error bodies, access log.
import { readFileSync } from 'node:fs';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { badRequest, internalError } from '../http/error-replies.js';
import { logAccess } from '../ops/access-log.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import { methodLabel, type Metrics } from '../ops/metrics.js';
import { attachConnectionGate } from '../tls/connection-gate.js';
import { attachAdmissionLimits } from './admission-limits.js';
import { attachResetBudget, createResetStreamGuard } from './rapid-reset.js';
import { createAuthorizeHook, createFrameworkErrorHandler, replyOf, sendErrorReply } from './authorize-hook.js';
import { registerGrpcForwarding } from './grpc-forwarder.js';
import { grpcAccessFields } from './grpc-status.js';
import { createClientErrorHandler, createListenerServer, parsedAfterClientError, type ListenerServer } from './listener.js';
import { contextOf } from './request-context.js';
import type { SnapshotStore } from './snapshot.js';
import { createUpstreamPool } from './upstream.js';
import { createHttpForwarder } from './forward-http.js';
import { keepContentTypeOpaque } from './opaque-content-type.js';
import { createWebSocketSupport, dispatchUpgrades } from './websocket.js';

export interface ProxyDeps {
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
}

export interface ProxyServer {
  app: FastifyInstance;
  /** A tls.Server: `setSecureContext`, `address()`, 'secureConnection' work as on https.Server. */
  server: ListenerServer;
  stopGate(): void;
}

function refuseSchemas(): never {
  throw new Error('route schemas are not used by this proxy');
}

/** Methods forwarded; any other is answered 400 by the not-found handler. */
const FORWARDED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

const kRecorded = Symbol('mtls-sidecar.recorded');

/**
 * One access line and the request metrics for an exchange, once: an exchange can end by more than one path (a caller
 * that aborts after its answer was written; an error answer attempted after the abort was recorded), and the first wins.
 */
function recordExchange(deps: ProxyDeps, request: FastifyRequest, reply: FastifyReply, status: number): void {
  const marked = request as FastifyRequest & { [kRecorded]?: true };
  if (marked[kRecorded]) return;
  marked[kRecorded] = true;
  const ctx = contextOf(request);
  const method = request.raw.method ?? '';
  deps.metrics.requests.inc({ method: methodLabel(method), code: String(status) });
  deps.metrics.requestDuration.observe(reply.elapsedTime / 1000);
  const identity = ctx?.conn?.identity;
  logAccess(deps.log, {
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
    ...grpcAccessFields(request),
  });
}

export async function buildProxyServer(config: Config, deps: ProxyDeps): Promise<ProxyServer> {
  const record = (request: FastifyRequest, reply: FastifyReply, status: number): void => recordExchange(deps, request, reply, status);
  const onFrameworkError = createFrameworkErrorHandler({ metrics: deps.metrics, record });
  const websockets = createWebSocketSupport({
    config,
    upstreamCaPem: config.upstream.kind === 'https' && config.upstreamCa ? readFileSync(config.upstreamCa, 'utf8') : undefined,
    store: deps.store,
    metrics: deps.metrics,
    record,
  });
  let tlsServer: ListenerServer | undefined;
  let draining = false;
  const clientErrorLog = createRateLimitedLog({ limit: 20, windowMs: 10_000 }, (suppressed, total) =>
    deps.log.warn({ suppressed, total }, 'unparsable HTTP/1.1 requests suppressed from the log'),
  );
  const app = fastify({
    logger: false,
    serverFactory: (handler) => {
      tlsServer = createListenerServer(deps.store.current.material, config, handler, () => websockets.closeAll());
      // fastify handles HTTP/2 and HTTP/1.1 requests per request; its types only know one server class.
      return tlsServer as unknown as HttpServer;
    },
    keepAliveTimeout: config.idleTimeoutMs,
    // While draining, the authorize hook answers with the fixed 503 body (request id, access line) instead of fastify.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 65_536 },
    // No route declares a schema: fastify's default compilers (ajv, fast-json-stringify) would load for nothing.
    schemaController: { compilersFactory: { buildValidator: refuseSchemas, buildSerializer: refuseSchemas } },
    frameworkErrors: onFrameworkError,
    clientErrorHandler: createClientErrorHandler({ metrics: deps.metrics, log: deps.log, limiter: clientErrorLog }),
  });
  const server = tlsServer as unknown as ListenerServer;
  const gate = attachConnectionGate(server, { store: deps.store, metrics: deps.metrics, log: deps.log, forwardCert: config.forwardCert });
  const admission = attachAdmissionLimits(server, config.limits, deps);
  const resetBudget = attachResetBudget(server, deps.log);

  app.addHook('onRequest', createAuthorizeHook({
      ...deps,
      isDraining: () => draining,
      bodyLimits: { idleMs: config.idleTimeoutMs, totalMs: config.requestTimeoutMs },
    }));
  app.addHook('onRequest', createResetStreamGuard(record)); // HTTP/2: a stream reset in the same flight starts nothing
  registerGrpcForwarding(app, config, deps); // after authorization: only allowed gRPC calls reach it
  app.addHook('onResponse', (request, reply, done) => {
    // An exchange the forwarder still owns records its own outcome (an HTTP/2 stream reset by the caller reports
    // 'finish' too, and must be 499, not the status whose head was sent).
    if (contextOf(request)?.forwarding !== true) record(request, reply, reply.statusCode);
    done();
  });
  // A caller gone before its request ended (body cut mid-way) has no answer to log: 499, as judged. Hijacked exchanges
  // (gRPC calls, WebSocket tunnels, dropped connections) are recorded by their owners, finished ones by onResponse.
  app.addHook('onRequestAbort', (request, done) => {
    const reply = replyOf(request);
    if (reply !== undefined && !reply.sent) record(request, reply, 499);
    done();
  });
  // Draining: HTTP/2 sessions get GOAWAY (open streams finish); HTTP/1.1 idle connections are closed by fastify.
  // Open WebSocket tunnels are left to finish within the grace period, like in-flight requests.
  app.addHook('preClose', (done) => {
    draining = true;
    server.drainSessions();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    websockets.stop();
    clientErrorLog.stop();
    done();
  });
  dispatchUpgrades(server, (req, res) => {
    if (!parsedAfterClientError(req, res)) app.routing(req, res);
  });
  // Set before the not-found handler, whose context keeps the error handler in force when it is created.
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    // No context: the request skipped the onRequest hooks. fastify answers a method its router does not know
    // (HTTP/2 `:method: get`, `FOO`) from a fallback that runs no hook and lands here; it gets the same connection
    // check, fixed 400, access line and metrics as any request the router could not take.
    if (contextOf(request) === undefined) {
      onFrameworkError(err, request, reply);
      return;
    }
    const requestId = contextOf(request)?.requestId ?? '';
    const status = err.statusCode ?? 500;
    deps.log.warn({ requestId, code: (err as { code?: string }).code, status }, 'request failed inside the proxy');
    sendErrorReply(reply, status >= 400 && status < 500 ? badRequest(requestId) : internalError(requestId), requestId);
  });
  app.setNotFoundHandler((request, reply) => {
    const requestId = contextOf(request)?.requestId ?? '';
    sendErrorReply(reply, badRequest(requestId), requestId);
  });

  const forwarder = createHttpForwarder(createUpstreamPool(config), { metrics: deps.metrics, record, stripHeaders: config.stripHeaders });
  app.addHook('onClose', async () => forwarder.close());
  // Bodies are streamed to the upstream untouched: a pass-through parser leaves the request stream unread.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  keepContentTypeOpaque(app);
  for (const url of ['/', '/*']) {
    app.route({ url, method: FORWARDED_METHODS, preHandler: websockets.preHandler, handler: forwarder.handle });
  }
  const stopGate = (): void => {
    gate.stop();
    admission.stop();
    resetBudget.stop();
  };
  return { app, server, stopGate };
}
