// WebSocket upgrades: dispatched through the same fastify hooks as any request, then tunnelled byte for byte to the upstream.
//
// Why a tunnel and not @fastify/http-proxy's `websocket: true`: that mode accepts the caller's upgrade before the
// upstream has answered (an upstream failure then reaches the caller as a close frame carrying the upstream error
// text), terminates WebSocket on both legs (subprotocol and extension negotiation are redone, whole messages are
// buffered) and starts its upstream handshake with empty headers. Here the upstream answers the caller's own
// handshake: it sees the caller's Sec-WebSocket-* headers plus the identity headers, its 101 is relayed as is, a
// refusal (any non-101) is relayed as a normal response, and connection failures become the fixed 502/504 bodies.
import http, { ServerResponse, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { hasHttp1Body } from '../http/message-body.js';
import { composeUpstreamHeaders } from '../http/identity-headers.js';
import { listsToken } from '../http/header-sanitize.js';
import { badRequest, upstreamFailure } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import { refreshRevocation, type VerifiedConnection } from '../tls/connection-gate.js';
import type { SnapshotStore } from '../state/snapshot.js';
import { sendErrorReply } from './authorize-hook.js';
import { contextOf } from './request-context.js';

const kUpgrade = Symbol('mtls-sidecar.upgrade');

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
}

type UpgradeRequest = IncomingMessage & { [kUpgrade]?: PendingUpgrade };

export interface TunnelDeps {
  config: Pick<Config, 'upstream' | 'upstreamCa' | 'upstreamTimeoutMs' | 'stripHeaders'>;
  upstreamCaPem: string | undefined;
  store: SnapshotStore;
  metrics: Metrics;
  /** Writes the access line and request metrics for an exchange fastify's onResponse will not see (a 101). */
  record(request: FastifyRequest, reply: FastifyReply, status: number): void;
}

export interface WebSocketSupport {
  /** Route-level preHandler: tunnels authorized upgrade requests, passes every other request on. */
  preHandler(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void;
  /** Destroys every open tunnel (forced shutdown). */
  closeAll(): void;
  /** Stops re-judging open tunnels. */
  stop(): void;
}

/** How often open tunnels look for a new snapshot (the reloader swaps every --reload-interval at most). */
const REJUDGE_INTERVAL_MS = 1000;

interface Tunnel {
  conn: VerifiedConnection;
  path: string;
}

/**
 * Sends every HTTP/1.1 upgrade request through fastify's routing (so onRequest authorization, path normalization
 * and the access log apply exactly as for other requests), with a response object bound to the raw socket.
 * Whatever is answered there (403, 400, 502…) ends the connection, as an upgrade request cannot be followed by another.
 */
export function dispatchUpgrades(server: { on(event: 'upgrade', l: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown }, routing: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('upgrade', (req, socket, head) => {
    (req as UpgradeRequest)[kUpgrade] = { socket, head };
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as import('node:net').Socket);
    res.on('finish', () => socket.end());
    routing(req, res);
  });
}

function upstreamHostHeader(upstream: Config['upstream']): string {
  return upstream.kind === 'unix' ? 'localhost' : upstream.url.host;
}

/** The 101 head exactly as the upstream sent it (names and values already validated by Node's parser). */
function formatSwitchingHead(res: IncomingMessage): string {
  let out = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${out}\r\n`;
}

export function createWebSocketSupport(deps: TunnelDeps): WebSocketSupport {
  const tunnels = new Map<Duplex, Tunnel>();
  const { upstream } = deps.config;

  // A tunnel has no next request to judge, so after a reload (CRL, CA, policy) each open one is judged again, as
  // its upgrade request would be now: a revoked or no longer admitted caller loses the connection.
  let judgedVersion = deps.store.current.version;
  const rejudge = (): void => {
    const snapshot = deps.store.current;
    if (snapshot.version === judgedVersion) return;
    judgedVersion = snapshot.version;
    for (const [socket, tunnel] of tunnels) {
      const revoked = refreshRevocation(tunnel.conn, deps.store);
      if (revoked || !snapshot.policy.decide('GET', tunnel.path, tunnel.conn.identity).allowed) {
        deps.metrics.authzDecisions.inc({ decision: 'deny' });
        socket.destroy();
      }
    }
  };
  const timer = setInterval(rejudge, REJUDGE_INTERVAL_MS);
  timer.unref();

  const joinTunnel = (tunnel: Tunnel, client: Duplex, clientHead: Buffer, up: Duplex, upHead: Buffer): void => {
    tunnels.set(client, tunnel);
    const teardown = (): void => {
      tunnels.delete(client);
      client.destroy();
      up.destroy();
    };
    client.on('error', teardown);
    up.on('error', teardown);
    client.on('close', teardown);
    up.on('close', teardown);
    if (upHead.length > 0) client.write(upHead);
    if (clientHead.length > 0) up.write(clientHead);
    client.pipe(up);
    up.pipe(client);
  };

  const openTunnel = (request: FastifyRequest, reply: FastifyReply, pending: PendingUpgrade): void => {
    const ctx = contextOf(request);
    const conn = ctx?.conn;
    if (!ctx || !conn) throw new Error('unverified upgrade reached the proxy stage');
    const raw = request.raw;
    const headers = composeUpstreamHeaders(raw.headers, conn.identityHeaders, {
      remoteAddress: conn.remoteAddress,
      host: raw.headers.host,
      requestId: ctx.requestId,
      strip: deps.config.stripHeaders,
    });
    // The sanitizer drops Connection (hop-by-hop); this hop is an upgrade again.
    headers.connection = 'Upgrade';
    headers.host = upstreamHostHeader(upstream);
    const target =
      upstream.kind === 'unix'
        ? { socketPath: upstream.socketPath }
        : { host: upstream.host, port: upstream.port, servername: upstream.kind === 'https' ? upstream.host : undefined };
    const transport = upstream.kind === 'https' ? https : http;
    const upReq = transport.request({
      ...target,
      method: 'GET',
      path: raw.url ?? '/',
      headers,
      agent: false,
      ...(upstream.kind === 'https' ? { rejectUnauthorized: true, ...(deps.upstreamCaPem ? { ca: deps.upstreamCaPem } : {}) } : {}),
    });
    let settled = false;
    const onClientGone = (): void => {
      if (!settled) upReq.destroy();
    };
    pending.socket.once('close', onClientGone);
    const timer = setTimeout(() => upReq.destroy(Object.assign(new Error('upstream handshake timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), deps.config.upstreamTimeoutMs);

    upReq.on('upgrade', (res, upSocket, upHead) => {
      settled = true;
      clearTimeout(timer);
      pending.socket.removeListener('close', onClientGone);
      if (pending.socket.destroyed) {
        upSocket.destroy();
        return;
      }
      reply.hijack();
      pending.socket.write(formatSwitchingHead(res));
      joinTunnel({ conn, path: ctx.path }, pending.socket, pending.head, upSocket, upHead);
      deps.record(request, reply, 101);
    });
    upReq.on('response', (res) => {
      // The upstream refused the upgrade: its answer goes back like any proxied response.
      settled = true;
      clearTimeout(timer);
      pending.socket.removeListener('close', onClientGone);
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value === undefined || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'upgrade') continue;
        out[name] = value;
      }
      reply.code(res.statusCode ?? 502).headers(out).header('x-request-id', ctx.requestId).send(res);
    });
    upReq.on('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if (settled || reply.sent) return;
      settled = true;
      pending.socket.removeListener('close', onClientGone);
      const { reason, reply: body } = upstreamFailure(err, ctx.requestId);
      ctx.upstreamError = reason;
      deps.metrics.upstreamErrors.inc({ reason });
      sendErrorReply(reply, body, ctx.requestId);
    });
    upReq.end();
  };

  return {
    preHandler(request, reply, done) {
      const pending = (request.raw as UpgradeRequest)[kUpgrade];
      if (pending === undefined) {
        done();
        return;
      }
      const h = request.raw.headers;
      // Only WebSocket handshakes are tunnelled: `Upgrade: h2c` or anything else has no business on a TLS
      // listener, and a body on the handshake would be read by the upstream as the first frames.
      const isWebSocket = request.raw.method === 'GET' && listsToken(h.upgrade, 'websocket') && listsToken(h.connection, 'upgrade');
      if (!isWebSocket || hasHttp1Body(h)) {
        const requestId = contextOf(request)?.requestId ?? '';
        sendErrorReply(reply, badRequest(requestId), requestId);
        return;
      }
      openTunnel(request, reply, pending);
    },
    closeAll() {
      for (const socket of tunnels.keys()) socket.destroy();
      tunnels.clear();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
