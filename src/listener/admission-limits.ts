// Connection admission: at most --max-connections open caller connections and --max-handshakes TLS handshakes in
// progress; more are closed at accept.
import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionLimits } from '../config/types.js';
import type { Metrics, REFUSAL_REASONS } from '../ops/metrics.js';
import { createRateLimitedLog } from '../ops/rate-limited-log.js';

type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * The one number both limits come down to: how many connections may be open now. Handshakes in progress count
 * towards both; a connection whose handshake finished only towards the first.
 */
export function acceptCeiling(
  limits: Pick<ConnectionLimits, 'maxConnections' | 'maxHandshakes'>,
  open: number,
  handshaking: number,
): number {
  return Math.min(limits.maxConnections, open + Math.max(0, limits.maxHandshakes - handshaking));
}

/**
 * Enforced through net.Server's own `maxConnections`: over the ceiling, Node closes the accepted handle before it
 * becomes a socket, so a refused connection costs no TLS state and no JavaScript object (the listener keeps
 * accepting, as Envoy and nginx do: the caller sees the close at once and can try another replica, where a
 * stopped accept loop would leave it waiting in the kernel's backlog). The ceiling is recomputed whenever a
 * connection opens, finishes its handshake or closes, so a caller gets in again as soon as load drops.
 */
export function attachAdmissionLimits(
  server: NetServer,
  limits: ConnectionLimits,
  deps: { metrics: Metrics; log: Logger },
): { stop(): void } {
  let open = 0;
  let secured = 0;
  const apply = (): void => {
    server.maxConnections = acceptCeiling(limits, open, open - secured);
  };
  const refusalLog = createRateLimitedLog({ limit: 5, windowMs: 10_000 }, (suppressed, total) =>
    deps.log.warn({ suppressed, total }, 'refused connections suppressed from the log'),
  );

  // One shared listener per event rather than a closure per socket: 'close' is emitted once.
  const onConnectionClose = (): void => {
    open -= 1;
    apply();
  };
  const onSecureClose = (): void => {
    secured -= 1;
    apply();
  };
  const onConnection = (socket: Socket): void => {
    open += 1;
    socket.on('close', onConnectionClose);
    apply();
  };
  const onSecure = (socket: Socket): void => {
    secured += 1;
    socket.on('close', onSecureClose);
    apply();
  };
  const onDrop = (): void => {
    const reason: RefusalReason = open >= limits.maxConnections ? 'max_connections' : 'max_handshakes';
    deps.metrics.connectionsRefused.inc({ reason });
    refusalLog.log(reason, () =>
      deps.log.warn(
        {
          reason,
          open,
          handshaking: open - secured,
          limit: reason === 'max_connections' ? limits.maxConnections : limits.maxHandshakes,
        },
        'connection refused at accept',
      ),
    );
  };

  server.on('connection', onConnection);
  server.on('secureConnection', onSecure);
  server.on('drop', onDrop);
  apply();
  return {
    stop() {
      server.off('connection', onConnection);
      server.off('secureConnection', onSecure);
      server.off('drop', onDrop);
      refusalLog.stop();
    },
  };
}
