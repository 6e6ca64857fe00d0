// HTTP/2 rapid reset (CVE-2023-44487): a stream the caller reset starts no upstream work, and a connection that keeps
// resetting streams is closed with GOAWAY ENHANCE_YOUR_CALM.
import http2, { type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Logger } from 'pino';
import { contextOf } from '../record/request-context.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';
import { verifiedConnectionOf } from '../gate/verified-connection.js';

const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/**
 * Streams a connection may see reset before their answer began: a burst, refilled per second. nghttp2's own limit
 * (1,000 and 33/s, ending in GOAWAY INTERNAL_ERROR) stays underneath; this one is tighter, says why it closes,
 * and still lets a busy gRPC client cancel calls (deadlines, hedging) at 100 a second.
 */
export const RESET_BURST = 200;
export const RESETS_PER_SECOND = 100;

/** A token bucket: `take()` is false once more than `burst` takes came faster than `perSecond` refills them. */
export function createResetBudget(burst: number, perSecond: number, now: () => number = Date.now) {
  let tokens = burst;
  let last = now();
  return {
    take(): boolean {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

function isGone(stream: ServerHttp2Stream): boolean {
  return stream.closed || stream.destroyed;
}

/**
 * Runs `go` one event-loop turn later, or `gone` when the stream was closed by then. Node runs the whole HEADERS
 * handling (hooks and handler, or the direct path) while nghttp2 is still reading the bytes that came with it, so a
 * RST_STREAM right behind the HEADERS is only seen after upstream work was already dispatched (undici opened a
 * connection for each such stream). By the next turn the reset is known.
 */
export function afterResetWindow(stream: ServerHttp2Stream, go: () => void, gone: () => void): void {
  setImmediate(() => {
    if (isGone(stream)) gone();
    else go();
  });
}

/**
 * fastify onRequest hook, after authorization: an HTTP/2 request is passed on one event-loop turn later (see
 * afterResetWindow); a stream closed by then is recorded as 499 and goes no further. HTTP/1.1 requests pass at once.
 */
export function createResetStreamGuard(record: (request: FastifyRequest, reply: FastifyReply, status: number) => void) {
  return function guardResetStreams(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const stream = contextOf(request)?.h2Stream;
    if (stream === undefined) {
      done();
      return;
    }
    afterResetWindow(stream, done, () => {
      reply.hijack();
      record(request, reply, 499);
    });
  };
}

/**
 * Counts, per HTTP/2 connection, streams aborted before their response began (the caller's RST_STREAM, in
 * practice); past the budget the session is destroyed with GOAWAY ENHANCE_YOUR_CALM.
 */
export function attachResetBudget(server: Http2SecureServer, log: Logger): { stop(): void } {
  const limited = createRateLimitedLog({ limit: 5, windowMs: 10_000 }, (suppressed, total) =>
    log.warn({ suppressed, total }, 'HTTP/2 connections closed for rapid reset suppressed from the log'),
  );
  const onSession = (session: ServerHttp2Session): void => {
    const budget = createResetBudget(RESET_BURST, RESETS_PER_SECOND);
    session.on('stream', (stream: ServerHttp2Stream) => {
      // 'aborted', not 'close': a stream reset before its (paused) request body was read is not destroyed, so
      // its 'close' may never come; 'aborted' is emitted at once, while nghttp2 is still reading the flight.
      stream.once('aborted', () => {
        if (stream.headersSent || budget.take() || session.destroyed) return;
        let subject: string | undefined;
        try {
          subject = verifiedConnectionOf(session.socket)?.identity.subject;
        } catch {
          subject = undefined; // the socket is already gone
        }
        limited.log('rapid_reset', () =>
          log.warn(
            { subject, burst: RESET_BURST, perSecond: RESETS_PER_SECOND },
            'HTTP/2 connection closed: too many streams reset (GOAWAY ENHANCE_YOUR_CALM)',
          ),
        );
        // With an error, the code goes into the final GOAWAY (the server's own session error handler takes the error).
        session.destroy(new Error('too many streams reset'), NGHTTP2_ENHANCE_YOUR_CALM);
      });
    });
  };
  server.on('session', onSession);
  return {
    stop() {
      server.off('session', onSession);
      limited.stop();
    },
  };
}
