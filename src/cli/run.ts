// `mtls-sidecar run`: start the proxy (one process, or a primary and --workers processes), reload on SIGHUP, drain on SIGTERM/SIGINT within --shutdown-grace, exit 0.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { startProxy } from '../lifecycle/start-proxy.js';
import { runWorkerProcess } from '../lifecycle/worker-process.js';
import { startWorkerPrimary } from '../lifecycle/workers.js';

/** What the signal loop drives: a single proxy process, or the primary of --workers. */
interface Serving {
  log: Logger;
  reload(): void;
  close(graceMs: number): Promise<void>;
}

/**
 * Resolves once the proxy has drained after SIGTERM or SIGINT. Explicit handlers matter when the process
 * runs as PID 1 (a container without an init): the kernel drops signals PID 1 has no handler for.
 * Rejects, with the handlers removed, when `fatal` rejects first.
 */
function serveUntilSignal(running: Serving, graceMs: number, fatal?: Promise<never>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onHangup = (): void => {
      try {
        running.reload();
      } catch (err) {
        running.log.error({ err: (err as Error).message }, 'reload on SIGHUP failed');
      }
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal means "now": cut what is left and exit (still 0, the stop was asked for).
        running.log.warn({ signal }, 'second signal: closing the remaining connections now');
        void running.close(0);
        return;
      }
      stopping = true;
      running.log.info({ signal, graceMs }, 'shutting down');
      running.close(graceMs).then(done, done);
    };
    const removeHandlers = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
    };
    const done = (): void => {
      removeHandlers();
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHangup);
    fatal?.catch((err: unknown) => {
      removeHandlers();
      reject(err);
    });
  });
}

export async function runCommand(config: Config): Promise<void> {
  // cluster.fork() re-runs this same command line, so a worker arrives here with the same Config.
  if (config.workers > 1 && cluster.isWorker) return runWorkerProcess(config);
  let log: Logger;
  if (config.workers > 1) {
    const primary = await startWorkerPrimary(config);
    log = primary.log;
    await serveUntilSignal(primary, config.shutdownGraceMs, primary.failed);
  } else {
    const running = await startProxy(config);
    log = running.log;
    await serveUntilSignal({ log, reload: () => running.reload('signal'), close: (ms) => running.close(ms) }, config.shutdownGraceMs);
  }
  log.info('stopped');
  // The logger writes asynchronously; main exits right after this returns.
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}
