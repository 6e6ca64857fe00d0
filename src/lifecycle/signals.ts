// The one signal handler of a serving process (one proxy, the workers' primary, or a worker): SIGTERM and SIGINT
// drain within --shutdown-grace, SIGHUP reloads.
import type { Logger } from 'pino';
import type { RunningProxy } from './start-proxy.js';

/** What the handler drives. */
export interface Serving {
  log: Logger;
  reload(): void;
  /** Drains within `graceMs`; called again with 0 while draining, cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** One proxy as the handler drives it: SIGHUP reloads with the 'signal' trigger. */
export function servingProxy(running: Pick<RunningProxy, 'log' | 'reload' | 'close'>): Serving {
  return { log: running.log, reload: () => running.reload('signal'), close: (graceMs) => running.close(graceMs) };
}

/** The requests the handler takes, from signals or from another source (`attach`). */
export interface StopControl {
  /** Drains within `graceMs` the first time; later, only a 0 does anything: it cuts what is left. */
  stop(graceMs: number): void;
  reload(): void;
}

export interface ServeOptions {
  graceMs: number;
  /**
   * A second SIGTERM/SIGINT while draining: 'cut' (an operator asking again means "now") or 'ignore' (a --workers
   * process: a terminal's Ctrl-C reaches the whole process group, so the worker sees the signal and the primary's
   * message for one stop; only the primary's explicit `graceMs: 0` cuts).
   */
  repeatedSignal: 'cut' | 'ignore';
  /** When it rejects first, the wait rejects with it and the handlers are removed (the primary's crash loop). */
  fatal?: Promise<never>;
  /** Adds another source of stop and reload requests (a worker's messages from the primary); returns its remover. */
  attach?(control: StopControl): () => void;
}

/**
 * Resolves once `running` has drained after a stop. Explicit handlers matter when the process runs as PID 1 (a
 * container without an init): the kernel drops signals PID 1 has no handler for.
 */
export function serveUntilStopped(running: Serving, options: ServeOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    const control: StopControl = {
      stop(graceMs) {
        if (stopping) {
          if (graceMs === 0) void running.close(0);
          return;
        }
        stopping = true;
        running.close(graceMs).then(done, done);
      },
      reload() {
        try {
          running.reload();
        } catch (err) {
          running.log.error({ err: (err as Error).message }, 'reload on SIGHUP failed');
        }
      },
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!stopping) {
        running.log.info({ signal, graceMs: options.graceMs }, 'shutting down');
        control.stop(options.graceMs);
      } else if (options.repeatedSignal === 'cut') {
        // Still exits 0: the stop was asked for.
        running.log.warn({ signal }, 'second signal: closing the remaining connections now');
        control.stop(0);
      }
    };
    const onHangup = (): void => control.reload();
    const detach = options.attach?.(control) ?? (() => undefined);
    const removeHandlers = (): void => {
      detach();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
    };
    function done(): void {
      removeHandlers();
      resolve();
    }
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHangup);
    options.fatal?.catch((err: unknown) => {
      removeHandlers();
      reject(err);
    });
  });
}
