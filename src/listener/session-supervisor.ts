// Bounds the life of every HTTP/2 connection whatever state Node's session is in: idle sessions are closed, broken or
// silent ones lose their TLS socket.
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';

export interface SessionLimits {
  /** --idle-timeout: no frame for this long and the connection is checked. */
  idleMs: number;
  /**
   * How long a connection that should end (GOAWAY sent, protocol error, peer gone, liveness ping unanswered) may take.
   */
  graceMs: number;
}

/** The grace a connection gets to end after it was told to: short, and never longer than the idle timeout. */
export function sessionGraceMs(idleMs: number): number {
  return Math.max(100, Math.min(idleMs, 2000));
}

/**
 * Watches one session and the TLS socket under it. Node's own session can stay open forever: after a connection
 * error in the same flight as a request (DATA after END_STREAM, a stray CONTINUATION, a wrong-length RST_STREAM…)
 * Node 20 sends GOAWAY but neither closes the stream nor reads the peer's FIN, so the socket sits in CLOSE-WAIT;
 * and `session.close()` waits for open streams, and `session.destroy()` after it waits for the peer to close.
 * Only destroying the socket itself is certain, and it closes the streams (the exchanges record 499 and stop the
 * upstream request). The socket is destroyed:
 * - `graceMs` after the session reported an error, received a GOAWAY with an error code, or the peer ended its side;
 * - at --idle-timeout without frames and without open streams: GOAWAY first, the socket `graceMs` later if still there;
 * - at --idle-timeout without frames but with open streams (a slow upstream, a quiet gRPC stream): a PING is sent, and
 *   the socket goes if no acknowledgement comes within `graceMs`. A live peer acknowledges and keeps its streams.
 */
export function superviseSession(session: ServerHttp2Session, socket: TLSSocket, limits: SessionLimits): void {
  let openStreams = 0;
  let deadline: NodeJS.Timeout | undefined;
  const reclaim = (): void => {
    if (!socket.destroyed) socket.destroy();
  };
  const endWithin = (ms: number): void => {
    if (deadline !== undefined || socket.destroyed) return;
    deadline = setTimeout(reclaim, ms);
    deadline.unref();
  };
  const endSoon = (): void => endWithin(limits.graceMs);

  session.on('stream', (stream: ServerHttp2Stream) => {
    openStreams += 1;
    stream.once('close', () => {
      openStreams -= 1;
    });
  });

  const probeLiveness = (): void => {
    const noAnswer = setTimeout(reclaim, limits.graceMs);
    noAnswer.unref();
    const answered = (err: Error | null): void => {
      clearTimeout(noAnswer);
      if (err !== null) reclaim();
      else if (!session.destroyed) session.setTimeout(limits.idleMs); // watched again for the next idle period
    };
    try {
      if (!session.ping(answered)) reclaim(); // too many unanswered pings already
    } catch {
      reclaim();
    }
  };

  // setTimeout's own callback would run once; the listener stays for every idle period.
  session.setTimeout(limits.idleMs);
  session.on('timeout', () => {
    if (session.destroyed) {
      reclaim();
    } else if (openStreams === 0) {
      if (!session.closed) session.close();
      endSoon();
    } else if (!session.closed) {
      probeLiveness();
    }
    // Closing (drain, or the peer's own GOAWAY) with streams still open: they end on their own (--shutdown-grace).
  });
  session.on('error', endSoon);
  session.on('goaway', (code: number) => {
    if (code !== http2.constants.NGHTTP2_NO_ERROR) endSoon();
  });
  socket.once('end', endSoon);
  socket.once('close', () => clearTimeout(deadline));
}
