// Wires the proxy: TLS listener (HTTP/2 + HTTP/1.1), connection gate, the direct path for plainly allowed requests,
// fastify with the authorize hook for every other one, undici forwarding, WebSocket tunnels, fixed error bodies,
// access log.
import fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { badRequest, internalError } from '../http/error-replies.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import type { Metrics } from '../ops/metrics.js';
import { createOutcomeRecorder } from '../record/outcome.js';
import { attachConnectionGate } from '../gate/connection-gate.js';
import { attachAdmissionLimits } from './admission-limits.js';
import { attachResetBudget, createResetStreamGuard } from './rapid-reset.js';
import { createAuthorizeHook, createFrameworkErrorHandler, replyOf } from '../judgement/authorize-hook.js';
import { sendErrorReply } from '../record/error-reply.js';
import { registerGrpcForwarding } from '../upstream/grpc-forwarder.js';
import { fastifyServerFactory } from './fastify-server.js';
import {
  createClientErrorHandler,
  createListenerServer,
  parsedAfterClientError,
  type ListenerServer,
} from './listener.js';
import { contextOf } from '../record/request-context.js';
import type { SnapshotStore } from '../state/snapshot.js';
import { createUpstream } from '../upstream/upstream.js';
import { createHttpForwarder } from '../upstream/forward-http.js';
import { keepContentTypeOpaque } from './opaque-content-type.js';
import { createDirectPath } from './direct-path.js';
import { FORWARDED_METHODS } from './forwarded-routes.js';
import { createDirectAdmission } from '../judgement/direct-admission.js';
import { createWebSocketSupport, dispatchUpgrades } from '../upstream/websocket.js';

export interface ProxyDeps {
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
  /** The process's drain flag (lifecycle/drain.ts): while it is up, requests are answered 503. */
  isDraining(): boolean;
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

export async function buildProxyServer(config: Config, deps: ProxyDeps): Promise<ProxyServer> {
  const outcomes = createOutcomeRecorder(deps);
  const { record } = outcomes;
  const onFrameworkError = createFrameworkErrorHandler({ metrics: deps.metrics, record });
  const upstream = createUpstream(config);
  const websockets = createWebSocketSupport({
    upstream,
    config,
    store: deps.store,
    metrics: deps.metrics,
    outcomes,
  });
  const server = createListenerServer(deps.store.current.material, config);
  const bodyLimits = { idleMs: config.idleTimeoutMs, totalMs: config.requestTimeoutMs };
  const forwarder = createHttpForwarder(upstream, { outcomes, stripHeaders: config.stripHeaders });
  // Set by the preClose hook, once fastify's routing starts asking HTTP/1.1 callers to close.
  let closing = false;
  // The direct path takes the requests the HTTP/1.1 forwarder would forward; with --upstream-protocol h2 every
  // request rides the HTTP/2 upstream session through fastify.
  const direct =
    config.upstreamProtocol === 'h2'
      ? undefined
      : createDirectPath({
          admission: createDirectAdmission({ ...deps, bodyLimits }),
          forwarder,
          outcomes,
          log: deps.log,
          isClosing: () => closing,
        });
  const clientErrorLog = createRateLimitedLog({ limit: 20, windowMs: 10_000 }, (suppressed, total) =>
    deps.log.warn({ suppressed, total }, 'unparsable HTTP/1.1 requests suppressed from the log'),
  );
  const app = fastify({
    logger: false,
    serverFactory: fastifyServerFactory(server, direct),
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
  const gate = attachConnectionGate(server, {
    store: deps.store,
    metrics: deps.metrics,
    log: deps.log,
    forwardCert: config.forwardCert,
  });
  const admission = attachAdmissionLimits(server, config.limits, deps);
  const resetBudget = attachResetBudget(server, deps.log);

  app.addHook('onRequest', createAuthorizeHook({ ...deps, isDraining: deps.isDraining, bodyLimits }));
  app.addHook('onRequest', createResetStreamGuard(record)); // HTTP/2: a stream reset in the same flight starts nothing
  registerGrpcForwarding(app, upstream, config, { outcomes, log: deps.log }); // after authorization: only allowed gRPC calls reach it
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
    closing = true;
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

  // Once every caller connection is gone (finished or cut at the grace deadline): nobody is left to answer.
  app.addHook('onClose', async () => upstream.close());
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
