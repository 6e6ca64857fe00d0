// The TLS listener: one server speaking HTTP/2 and HTTP/1.1 (ALPN), with the HTTP/1.1 timeouts kept, fixed answers to unparsable HTTP/1.1, and a way to drain both.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { clientErrorReply, formatRawHttp1Reply } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import type { RateLimitedLog } from '../ops/rate-limited-log.js';
import { verifiedConnectionOf } from '../tls/connection-gate.js';
import { buildServerTlsOptions } from '../tls/secure-context.js';
import type { TlsMaterial } from '../tls/material.js';
import { sessionGraceMs, superviseSession } from './session-supervisor.js';

/** fastify's request handler; it tells HTTP/2 compat requests from HTTP/1.1 ones per request. */
export type ListenerHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenerServer extends Http2SecureServer {
  /** Destroys every connection at once: HTTP/1.1 sockets, HTTP/2 sessions and upgraded (WebSocket) tunnels. */
  closeAllConnections(): void;
  /** Sends GOAWAY on every HTTP/2 session: open streams finish, new ones are refused. */
  drainSessions(): void;
}

type Http1Timeouts = {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
  requireHostHeader: boolean;
};

/**
 * Creates the listener. HTTP/1.1 connections are handed by Node to the plain http connection logic, which reads
 * its timeouts from properties of this server object (they are not constructor options of http2), so they are set
 * here before listen. `extraClose` is called by closeAllConnections for connections this module does not see
 * (upgraded sockets leave the HTTP/1.1 connection list).
 */
export function createListenerServer(
  material: TlsMaterial,
  config: Config,
  handler: ListenerHandler,
  extraClose: () => void,
): ListenerServer {
  const server = http2.createSecureServer(
    {
      ...buildServerTlsOptions(material, config),
      allowHTTP1: true,
      // RFC 8441 (WebSocket over HTTP/2) stays off: clients then open WebSockets over HTTP/1.1, the path tested here.
      settings: { enableConnectProtocol: false, maxConcurrentStreams: config.limits.maxConcurrentStreams },
    },
    dispatchUnlessEnding(handler) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  ) as ListenerServer;
  // `Expect: 100-continue` goes through the same handler: the authorize hook sends 100 Continue once it has admitted
  // the request (Node would otherwise send it before any check, inviting a body it is about to refuse).
  server.on('checkContinue', dispatchUnlessEnding(handler) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  const h1 = server as unknown as Http1Timeouts;
  h1.headersTimeout = config.headersTimeoutMs;
  // Bodies may stream for as long as data flows; idle and header timeouts bound slow callers.
  h1.requestTimeout = 0;
  h1.keepAliveTimeout = config.idleTimeoutMs;
  h1.connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4)));
  // A Host-less HTTP/1.1 request is refused by the authorize hook (fixed 400, logged): Node's own check answers
  // 400 + close but still dispatches a request pipelined behind it, whose answer would then be lost.
  h1.requireHostHeader = false;

  const sessions = new Set<ServerHttp2Session>();
  // The TLS socket a session is made from: 'session' is emitted from within this same 'secureConnection' dispatch.
  let accepted: TLSSocket | undefined;
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    accepted = socket;
  });
  const limits = { idleMs: config.idleTimeoutMs, graceMs: sessionGraceMs(config.idleTimeoutMs) };
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    const socket = accepted;
    accepted = undefined;
    // Idle sessions get GOAWAY; broken or silent ones lose their socket (see superviseSession).
    if (socket !== undefined) superviseSession(session, socket, limits);
    else session.setTimeout(config.idleTimeoutMs, () => session.close());
  });

  server.closeAllConnections = () => {
    http.Server.prototype.closeAllConnections.call(server as unknown as http.Server);
    for (const session of sessions) session.destroy();
    extraClose();
  };
  server.drainSessions = () => {
    for (const session of sessions) session.close();
  };
  return server;
}

/**
 * fastify's `clientErrorHandler` (the listener's 'clientError'): bytes Node's HTTP/1.1 parser refuses (a header name
 * with trailing whitespace, obs-fold, Content-Length with Transfer-Encoding, `PRI`, an oversize head, a head slower
 * than --headers-timeout) never become a request, so no hook sees them. They get a fixed body and Connection: close,
 * are counted and logged (rate-limited), and the input is never echoed.
 */
export function createClientErrorHandler(deps: { metrics: Metrics; log: Logger; limiter: RateLimitedLog }) {
  return function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // The caller closed its side mid-request: it left, it did not send anything malformed (a request already under
    // way is recorded as 499 by its onRequestAbort hook).
    if (err.code === 'HPE_INVALID_EOF_STATE') {
      socket.destroy();
      return;
    }
    // Fail closed: a connection without verified state is never answered (the gate normally destroyed it already).
    if (verifiedConnectionOf(socket) === undefined) {
      socket.destroy();
      return;
    }
    // Node's parser stays failed and reports every later chunk again: the connection is already being ended.
    if (ending.has(socket)) return;
    ending.add(socket);
    // Bytes after a request that asked to close (Connection: close, HTTP/1.0) are not requests: ignored, not refused.
    if (err.code === 'HPE_CLOSED_CONNECTION') {
      endAfterAnswers(socket, null);
      return;
    }
    const current = (socket as SocketWithMessage)._httpMessage ?? null;
    // Bytes inside the body of the request being answered belong to that exchange, already judged and recorded.
    if (current !== null && current.req?.complete === false) {
      endAfterAnswers(socket, null);
      return;
    }
    const reply = clientErrorReply(err.code);
    deps.metrics.requests.inc({ method: 'OTHER', code: String(reply.status) });
    if (reply.status !== 408) deps.metrics.authzDecisions.inc({ decision: 'bad_request' });
    const code = err.code ?? 'unknown';
    deps.limiter.log(code, () =>
      deps.log.warn({ status: reply.status, code, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` }, 'unparsable HTTP/1.1 request refused'),
    );
    // Requests accepted before the bad bytes (pipelining) are answered first, in order; this answer comes last.
    endAfterAnswers(socket, formatRawHttp1Reply(reply));
  };
}

type SocketWithMessage = Socket & { _httpMessage?: (ServerResponse & { req?: IncomingMessage }) | null };

const ending = new WeakSet<Socket>();
/** Responses of requests parsed on an ending connection: never answered, so never waited for. */
const undispatched = new WeakSet<ServerResponse>();

/**
 * A connection being ended for a client error takes no request parsed after it. A head slower than --headers-timeout
 * is answered 408 while still incomplete, and its rest (already on the wire when a busy process wakes) may be parsed
 * before the socket closes: the caller was told the request was not processed, so the upstream must never see it.
 * True when `req` is such a request; its response is then never written (nor waited for).
 */
export function parsedAfterClientError(req: IncomingMessage, res: ServerResponse): boolean {
  if (!ending.has(req.socket)) return false;
  undispatched.add(res);
  return true;
}

function dispatchUnlessEnding(handler: ListenerHandler): ListenerHandler {
  return (req, res) => {
    if (!parsedAfterClientError(req, res)) handler(req, res);
  };
}

/**
 * Lets the responses Node still owes on this connection finish (Node hands the next queued one to the socket when
 * one finishes), then writes `last` (if any) and closes. Nothing more is read: the parser has failed.
 */
function endAfterAnswers(socket: Socket, last: string | null): void {
  const current = (socket as SocketWithMessage)._httpMessage ?? null;
  if (current !== null && !current.writableFinished && !current.destroyed && !undispatched.has(current)) {
    const next = (): void => {
      current.removeListener('finish', next);
      current.removeListener('close', next);
      if (current.writableFinished) setImmediate(() => endAfterAnswers(socket, last));
      else socket.destroy(); // cut mid-answer: nothing after it can be delivered in order
    };
    current.once('finish', next);
    current.once('close', next);
    return;
  }
  if (last !== null && socket.writable) socket.write(last);
  socket.destroySoon();
}
