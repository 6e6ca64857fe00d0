// `mtls-sidecar run`: start the proxy (one process, or a primary and --workers processes), reload on SIGHUP, drain on
// SIGTERM/SIGINT within --shutdown-grace, exit 0.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { serveUntilStopped, servingProxy } from '../lifecycle/signals.js';
import { startProxy } from '../lifecycle/start-proxy.js';

export async function runCommand(config: Config): Promise<void> {
  const log = config.workers > 1 ? await runWorkers(config) : await runSingleProcess(config);
  if (log === null) return;
  log.info('stopped');
  // The logger writes asynchronously; main exits right after this returns.
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}

async function runSingleProcess(config: Config): Promise<Logger> {
  const running = await startProxy(config);
  await serveUntilStopped(servingProxy(running), { graceMs: config.shutdownGraceMs, repeatedSignal: 'cut' });
  return running.log;
}

/**
 * The primary, or one worker (cluster.fork() re-runs this same command line, so a worker arrives here with the same
 * Config; it logs its own stop). Loaded only with --workers: a single process keeps no cluster or pool code in memory.
 */
async function runWorkers(config: Config): Promise<Logger | null> {
  const { default: cluster } = await import('node:cluster');
  if (cluster.isWorker) {
    const { runWorkerProcess } = await import('../lifecycle/worker-process.js');
    await runWorkerProcess(config);
    return null;
  }
  const { startWorkerPrimary } = await import('../lifecycle/workers.js');
  const primary = await startWorkerPrimary(config);
  await serveUntilStopped(primary, { graceMs: config.shutdownGraceMs, repeatedSignal: 'cut', fatal: primary.failed });
  return primary.log;
}
