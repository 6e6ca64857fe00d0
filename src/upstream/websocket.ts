// WebSocket upgrades: dispatched through the same fastify hooks as any request, then tunnelled byte for byte to the
// upstream.
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
import { badRequest, forbidden, upstreamFailure } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import { callerStandingOf, type VerifiedConnection } from '../gate/verified-connection.js';
import { judgeRequest } from '../judgement/judge-request.js';
import { requestHeadOf, type RequestHead } from '../judgement/request-head.js';
import type { SnapshotStore } from '../state/snapshot.js';
import { sendErrorReply } from '../record/error-reply.js';
import { CALLER_GONE, type OutcomeRecorder } from '../record/outcome.js';
import { contextOf } from '../record/request-context.js';
import { relayableHeaderObject } from './response-headers.js';
import type { Upstream } from './upstream.js';

const kUpgrade = Symbol('mtls-sidecar.upgrade');

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
}

type UpgradeRequest = IncomingMessage & { [kUpgrade]?: PendingUpgrade };

export interface TunnelDeps {
  upstream: Upstream;
  config: Pick<Config, 'upstreamTimeoutMs' | 'stripHeaders'>;
  store: SnapshotStore;
  metrics: Metrics;
  /** Records what fastify's onResponse will not see: a 101, a caller gone before the upstream answered. */
  outcomes: OutcomeRecorder;
}

export interface WebSocketSupport {
  /** Route-level preHandler: tunnels authorized upgrade requests, passes every other request on. */
  preHandler(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void;
  /** Stops re-judging open tunnels. */
  stop(): void;
}

/** How often open tunnels look for a new snapshot (the reloader swaps every --reload-interval at most). */
const REJUDGE_INTERVAL_MS = 1000;

interface Tunnel {
  conn: VerifiedConnection;
  /** The upgrade request's head as forwarded (its target already the judged path): judged again after a reload. */
  head: RequestHead;
}

/**
 * Sends every HTTP/1.1 upgrade request through fastify's routing (so onRequest authorization, path normalization
 * and the access log apply exactly as for other requests), with a response object bound to the raw socket.
 * Whatever is answered there (403, 400, 502…) ends the connection, as an upgrade request cannot be followed by another.
 */
export function dispatchUpgrades(
  server: { on(event: 'upgrade', l: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown },
  routing: (req: IncomingMessage, res: ServerResponse) => void,
): void {
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

/** The 101 head exactly as the upstream sent it (names and values already validated by Node's parser). */
function formatSwitchingHead(res: IncomingMessage): string {
  let out = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${out}\r\n`;
}

export function createWebSocketSupport(deps: TunnelDeps): WebSocketSupport {
  const tunnels = new Map<Duplex, Tunnel>();
  const { target } = deps.upstream;

  // A tunnel has no next request to judge, so it is judged again as its upgrade request would be now: before the
  // switch (a reload may have landed while the upstream answered the handshake), then every tick, which also catches
  // a certificate that expired since the handshake. A revoked, expired or no longer admitted caller loses the tunnel.
  // Chains are verified again only after a reload (callerStandingOf keeps its verdict per snapshot version).
  const stillAdmitted = (tunnel: Tunnel): boolean => {
    const snapshot = deps.store.current;
    return judgeRequest(tunnel.head, callerStandingOf(tunnel.conn, snapshot), snapshot, false).decision === 'allow';
  };
  const refuse = (socket: Duplex): void => {
    deps.metrics.authzDecisions.inc({ decision: 'deny' });
    socket.destroy();
  };
  const rejudge = (): void => {
    for (const [socket, tunnel] of tunnels) if (!stillAdmitted(tunnel)) refuse(socket);
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
    headers.host = target.authority;
    const upReq = (target.tls === undefined ? http : https).request({
      ...target.address,
      ...target.tls,
      method: 'GET',
      path: raw.url ?? '/',
      headers,
      agent: false,
    });
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      pending.socket.removeListener('close', onClientGone);
      return true;
    };
    // The caller left before the upstream answered its handshake: 499, and the upstream request is dropped.
    const onClientGone = (): void => {
      if (!settle()) return;
      upReq.destroy();
      deps.outcomes.recordExchange(ctx, CALLER_GONE);
    };
    pending.socket.once('close', onClientGone);
    const timer = setTimeout(
      () => upReq.destroy(Object.assign(new Error('upstream handshake timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
      deps.config.upstreamTimeoutMs,
    );

    upReq.on('upgrade', (res, upSocket, upHead) => {
      if (pending.socket.destroyed) onClientGone();
      if (!settle()) {
        upSocket.destroy();
        return;
      }
      const tunnel: Tunnel = { conn, head: requestHeadOf(raw, 'h1') };
      // Judged again before the switch: a reload may have landed while the upstream answered the handshake.
      if (!stillAdmitted(tunnel)) {
        refuse(upSocket);
        ctx.decision = 'deny';
        sendErrorReply(reply, forbidden(ctx.requestId), ctx.requestId);
        return;
      }
      reply.hijack();
      pending.socket.write(formatSwitchingHead(res));
      joinTunnel(tunnel, pending.socket, pending.head, upSocket, upHead);
      deps.outcomes.recordExchange(ctx, 101);
    });
    upReq.on('response', (res) => {
      // The upstream refused the upgrade: its answer goes back like any proxied response.
      if (!settle()) {
        res.destroy();
        return;
      }
      reply
        .code(res.statusCode ?? 502)
        .headers(relayableHeaderObject(res.headers))
        .header('x-request-id', ctx.requestId)
        .send(res);
    });
    upReq.on('error', (err: Error & { code?: string }) => {
      if (!settle() || reply.sent) return;
      const { reason, reply: body } = upstreamFailure(err, ctx.requestId);
      deps.outcomes.noteUpstreamFailure(ctx, reason);
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
      const isWebSocket =
        request.raw.method === 'GET' && listsToken(h.upgrade, 'websocket') && listsToken(h.connection, 'upgrade');
      if (!isWebSocket || hasHttp1Body(h)) {
        const requestId = contextOf(request)?.requestId ?? '';
        sendErrorReply(reply, badRequest(requestId), requestId);
        return;
      }
      openTunnel(request, reply, pending);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
