// `mtls-sidecar run`: start the proxy (one process, or a primary and --workers processes), reload on SIGHUP, drain on
// SIGTERM/SIGINT within --shutdown-grace, exit 0.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { serveUntilStopped, servingProxy } from '../lifecycle/signals.js';
import { startProxy } from '../lifecycle/start-proxy.js';
import { runWorkerProcess } from '../lifecycle/worker-process.js';
import { startWorkerPrimary } from '../lifecycle/workers.js';

export async function runCommand(config: Config): Promise<void> {
  // cluster.fork() re-runs this same command line, so a worker arrives here with the same Config.
  if (config.workers > 1 && cluster.isWorker) return runWorkerProcess(config);
  let log: Logger;
  if (config.workers > 1) {
    const primary = await startWorkerPrimary(config);
    log = primary.log;
    await serveUntilStopped(primary, { graceMs: config.shutdownGraceMs, repeatedSignal: 'cut', fatal: primary.failed });
  } else {
    const running = await startProxy(config);
    log = running.log;
    await serveUntilStopped(servingProxy(running), { graceMs: config.shutdownGraceMs, repeatedSignal: 'cut' });
  }
  log.info('stopped');
  // The logger writes asynchronously; main exits right after this returns.
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}
