// Wires the proxy: TLS server, connection gate, authorize hook, @fastify/http-proxy, fixed error bodies, access log.
import https from 'node:https';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { badRequest, internalError, upstreamFailure } from '../http/error-replies.js';
import { logAccess } from '../ops/access-log.js';
import { methodLabel, type Metrics } from '../ops/metrics.js';
import { attachConnectionGate } from '../tls/connection-gate.js';
import { buildServerTlsOptions } from '../tls/secure-context.js';
import { createAuthorizeHook, sendErrorReply } from './authorize-hook.js';
import { contextOf } from './request-context.js';
import type { SnapshotStore } from './snapshot.js';
import { buildUpstreamOptions } from './upstream.js';

export interface ProxyDeps {
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
}

export interface ProxyServer {
  app: FastifyInstance;
  server: https.Server;
  stopGate(): void;
}

function createTlsServer(config: Config, deps: ProxyDeps, handler: Parameters<typeof https.createServer>[1]): https.Server {
  const server = https.createServer(
    {
      ...buildServerTlsOptions(deps.store.current.material, config),
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: config.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    handler,
  );
  return server;
}

function onUpstreamError(metrics: Metrics) {
  return (reply: FastifyReply, { error }: { error: Error & { code?: string; statusCode?: number } }): void => {
    const ctx = contextOf(reply.request);
    const requestId = ctx?.requestId ?? '';
    const { reason, reply: body } = upstreamFailure(error, requestId);
    if (ctx) ctx.upstreamError = reason;
    metrics.upstreamErrors.inc({ reason });
    sendErrorReply(reply, body, requestId);
  };
}

function recordResponse(deps: ProxyDeps) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const ctx = contextOf(request);
    const method = request.raw.method ?? '';
    deps.metrics.requests.inc({ method: methodLabel(method), code: String(reply.statusCode) });
    deps.metrics.requestDuration.observe(reply.elapsedTime / 1000);
    const identity = ctx?.conn?.identity;
    logAccess(deps.log, {
      requestId: ctx?.requestId ?? '',
      method,
      path: ctx?.path ?? '',
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      subject: identity?.subject,
      uri: identity?.uris[0],
      serial: identity?.serial,
      decision: ctx?.decision ?? 'none',
      rule: ctx?.rule,
      reason: ctx?.upstreamError,
    });
    done();
  };
}

export async function buildProxyServer(config: Config, deps: ProxyDeps): Promise<ProxyServer> {
  let tlsServer: https.Server | undefined;
  const app = fastify({
    logger: false,
    serverFactory: (handler) => {
      tlsServer = createTlsServer(config, deps, handler);
      return tlsServer;
    },
    keepAliveTimeout: config.idleTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 65_536 },
  });
  const server = tlsServer as unknown as https.Server;
  const gate = attachConnectionGate(server, { store: deps.store, metrics: deps.metrics, log: deps.log, forwardCert: config.forwardCert });

  app.addHook('onRequest', createAuthorizeHook(deps));
  app.addHook('onResponse', recordResponse(deps));
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const requestId = contextOf(request)?.requestId ?? '';
    const status = err.statusCode ?? 500;
    deps.log.warn({ requestId, code: (err as { code?: string }).code, status }, 'request failed inside the proxy');
    sendErrorReply(reply, status >= 400 && status < 500 ? badRequest(requestId) : internalError(requestId), requestId);
  });
  app.setNotFoundHandler((request, reply) => {
    const requestId = contextOf(request)?.requestId ?? '';
    sendErrorReply(reply, badRequest(requestId), requestId);
  });

  const upstream = buildUpstreamOptions(config);
  await app.register(httpProxy, {
    upstream: upstream.base,
    undici: upstream.undici,
    disableRequestLogging: true,
    internalRewriteLocationHeader: false,
    replyOptions: {
      rewriteRequestHeaders: (request: FastifyRequest, headers: IncomingHttpHeaders) => {
        const ctx = contextOf(request);
        if (!ctx?.conn) throw new Error('unverified request reached the proxy stage');
        // Start from the caller's own headers (so names listed in Connection are still visible to the
        // sanitizer in every spelling), then keep the upstream Host reply-from chose.
        const raw = request.raw.headers;
        const out = composeUpstreamHeaders(raw, ctx.conn.identityHeaders, {
          remoteAddress: ctx.conn.remoteAddress,
          host: raw.host ?? (raw[':authority'] as string | undefined),
          requestId: ctx.requestId,
        });
        if (headers.host !== undefined) out.host = headers.host;
        return out;
      },
      onError: onUpstreamError(deps.metrics),
      // Never replay a request on our own: the upstream decides about retries.
      retryDelay: () => null,
    },
  } as Parameters<typeof httpProxy>[1]);
  return { app, server, stopGate: gate.stop };
}
