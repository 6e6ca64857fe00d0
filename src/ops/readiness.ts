// Readiness: not draining, serving (listener up, or every worker ready), and an upstream that answered a recent TCP
// connect.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Upstream } from '../config/types.js';

export interface UpstreamProbe {
  /** The result of the latest background check (false until the first one answers). */
  readonly reachable: boolean;
  stop(): void;
}

/** One TCP (or unix socket) connect to the upstream; resolves true when it is accepted within `timeoutMs`. */
export function connectUpstream(upstream: Upstream, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      upstream.kind === 'unix'
        ? net.connect({ path: upstream.socketPath })
        : net.connect({ host: upstream.host, port: upstream.port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Checks the upstream in the background every `intervalMs` and caches the answer, so probes (and anyone
 * hammering /readyz) never cause connects of their own.
 */
export function startUpstreamProbe(
  upstream: Upstream,
  log: Logger,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): UpstreamProbe {
  const intervalMs = options.intervalMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? Math.min(1000, intervalMs);
  let reachable = false;
  let checked = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const check = async (): Promise<void> => {
    const ok = await connectUpstream(upstream, timeoutMs);
    if (stopped) return;
    if (ok !== reachable || !checked) {
      if (ok) log.info({ upstream: upstream.origin }, 'upstream reachable');
      else log.warn({ upstream: upstream.origin }, 'upstream not reachable; /readyz answers 503');
    }
    reachable = ok;
    checked = true;
    timer = setTimeout(() => void check(), intervalMs);
    timer.unref();
  };
  void check();
  return {
    get reachable() {
      return reachable;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export interface Readiness {
  /** Empty when ready; otherwise the short reasons why not (shown in the /readyz body). */
  notReadyReasons(): string[];
}

/**
 * Not ready while draining, while what serves is not up (`serving` says why: the listener, or workers not yet ready),
 * and while the upstream did not answer the latest probe.
 */
export function createReadiness(deps: {
  isDraining(): boolean;
  serving(): string | null;
  upstream: UpstreamProbe;
}): Readiness {
  return {
    notReadyReasons() {
      const reasons: string[] = [];
      if (deps.isDraining()) reasons.push('draining');
      const notServing = deps.serving();
      if (notServing !== null) reasons.push(notServing);
      if (!deps.upstream.reachable) reasons.push('upstream not reachable');
      return reasons;
    },
  };
}
