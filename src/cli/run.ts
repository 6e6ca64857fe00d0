// `mtls-sidecar run`: start the proxy, reload on SIGHUP, drain on SIGTERM/SIGINT within --shutdown-grace, exit 0.
import type { Config } from '../config/types.js';
import { startProxy, type RunningProxy } from '../server/start-proxy.js';

/**
 * Resolves once the proxy has drained after SIGTERM or SIGINT. Explicit handlers matter when the process
 * runs as PID 1 (a container without an init): the kernel drops signals PID 1 has no handler for.
 */
function serveUntilSignal(running: RunningProxy, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onHangup = (): void => {
      try {
        running.reload('signal');
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
    const done = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHangup);
  });
}

export async function runCommand(config: Config): Promise<void> {
  const running = await startProxy(config);
  await serveUntilSignal(running, config.shutdownGraceMs);
  running.log.info('stopped');
  // The logger writes asynchronously; main exits right after this returns.
  await new Promise<void>((resolve) => running.log.flush(() => resolve()));
}
