// The TLS listener: one server speaking HTTP/2 and HTTP/1.1 (ALPN), with the HTTP/1.1 timeouts kept, fixed answers to
// unparsable HTTP/1.1, and a way to drain both.
import { ServerResponse, type IncomingMessage, type ServerOptions as Http1ServerOptions } from 'node:http';
import http2, {
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { clientErrorReply, formatRawHttp1Reply } from '../http/error-replies.js';
import type { Metrics } from '../ops/metrics.js';
import type { RateLimitedLog } from '../ops/rate-limited-log.js';
import { verifiedConnectionOf } from '../gate/verified-connection.js';
import { buildServerTlsOptions } from '../state/secure-context.js';
import type { TlsMaterial } from '../state/material.js';
import type { DirectPath } from './direct-path.js';
import { sessionGraceMs, superviseSession } from './session-supervisor.js';

/** What the listener hands every request to: HTTP/1.1 ones as http messages, HTTP/2 ones as compat messages. */
export type ListenerHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export interface ListenerServer extends Http2SecureServer {
  /**
   * Closes the HTTP/1.1 connections that have no request in flight. Node defines it on an http2 secure server with
   * allowHTTP1 (since 20.12); @types/node does not declare it yet.
   */
  closeIdleConnections(): void;
  /** Sends GOAWAY on every HTTP/2 session: open streams finish, new ones are refused. */
  drainSessions(): void;
}

/** The timeouts of the HTTP/1.1 connections, which Node serves with its http machinery from `http1Options`. */
function http1Options(config: Config): Http1ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    // Bodies may stream for as long as data flows; idle and header timeouts bound slow callers.
    requestTimeout: 0,
    keepAliveTimeout: config.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    // A Host-less HTTP/1.1 request is refused by the authorize hook (fixed 400, logged): Node's own check answers
    // 400 + close but still dispatches a request pipelined behind it, whose answer would then be lost.
    requireHostHeader: false,
  };
}

/** Creates the listener; requests reach no one until serveRequests gives it a handler. */
export function createListenerServer(material: TlsMaterial, config: Config): ListenerServer {
  const http1 = http1Options(config);
  const server = http2.createSecureServer({
    ...buildServerTlsOptions(material, config),
    allowHTTP1: true,
    http1Options: http1,
    // RFC 8441 (WebSocket over HTTP/2) stays off: clients then open WebSockets over HTTP/1.1, the path tested here.
    settings: { enableConnectProtocol: false, maxConcurrentStreams: config.limits.maxConcurrentStreams },
  }) as ListenerServer;
  // Node 24 releases whose http2 server does not read http1Options yet (nodejs/node#59783) take these from the server
  // object itself, as http.Server does; setting them there too keeps every Node 24 on the configured values.
  Object.assign(server, http1);

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

  server.drainSessions = () => {
    for (const session of sessions) session.close();
  };
  return server;
}

/**
 * Hands every request of the listener to `handler`, unless `direct` (the direct path) serves it first: `direct`
 * returns false, having done nothing, for any request it leaves to `handler`.
 */
export function serveRequests(server: ListenerServer, handler: ListenerHandler, direct?: DirectPath): void {
  const dispatch = dispatchUnlessEnding(handler, direct);
  server.on('request', dispatch);
  // `Expect: 100-continue` goes through the same dispatch: 100 Continue is sent once the request is admitted (Node
  // would otherwise send it before any check, inviting a body it is about to refuse).
  server.on('checkContinue', dispatch);
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
      deps.log.warn(
        { status: reply.status, code, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` },
        'unparsable HTTP/1.1 request refused',
      ),
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
export function parsedAfterClientError(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): boolean {
  // Client errors are HTTP/1.1 parser errors: an HTTP/2 request never comes from an ending connection.
  if (!(res instanceof ServerResponse) || !ending.has(req.socket as Socket)) return false;
  undispatched.add(res);
  return true;
}

function dispatchUnlessEnding(handler: ListenerHandler, direct: DirectPath | undefined): ListenerHandler {
  return (req, res) => {
    if (parsedAfterClientError(req, res)) return;
    if (direct !== undefined && direct(req, res)) return;
    handler(req, res);
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
