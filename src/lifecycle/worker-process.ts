// One --workers process: serves the shared TLS listener, answers the primary's metrics requests, reloads and drains on
// its word.
import pino, { type Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createLogger } from '../ops/logger.js';
import { createMetrics } from '../ops/metrics.js';
import { serveUntilStopped, servingProxy, type StopControl } from './signals.js';
import { isPrimaryMessage, type WorkerMessage } from './worker-messages.js';
import { startProxy, type RunningProxy } from './start-proxy.js';

/**
 * A logger whose writes never exceed PIPE_BUF (4096 bytes on Linux) and hold whole lines only, so the lines
 * of the primary and of every worker sharing one stdout pipe stay atomic and never interleave mid-line.
 */
export function createSharedStdoutLogger(level: Config['logLevel']): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 0, maxWrite: 4096 });
  // createLogger hands the stream straight to pino, which takes a SonicBoom; only its parameter type is narrower.
  return createLogger(level, destination as unknown as NodeJS.WritableStream);
}

function sendToPrimary(message: WorkerMessage): void {
  // The channel may already be gone when the primary died; Node then ends this process anyway.
  if (process.connected) process.send?.(message);
}

/** The primary's messages: reload, drain (a second one with 0 cuts), and metrics requests. Returns the remover. */
function listenToPrimary(running: RunningProxy, control: StopControl): () => void {
  const onMessage = (message: unknown): void => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'mtls-sidecar:reload') control.reload();
    else if (message.type === 'mtls-sidecar:shutdown') control.stop(message.graceMs);
    else {
      running.metrics.registry.getMetricsAsJSON().then(
        (metrics) => sendToPrimary({ type: 'mtls-sidecar:metrics', id: message.id, metrics }),
        (err: Error) => running.log.error({ err: err.message }, 'collecting metrics for the primary failed'),
      );
    }
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** The body of a worker process; a start-up failure is thrown (and exits this worker 78), which the primary sees. */
export async function runWorkerProcess(config: Config): Promise<void> {
  const log = createSharedStdoutLogger(config.logLevel);
  const metrics = createMetrics();
  // Workers never bind the ops listener (the primary serves it) and never probe the upstream themselves.
  const running = await startProxy({ ...config, metricsListen: null }, { log, metrics, postureEnforced: true });
  sendToPrimary({ type: 'mtls-sidecar:ready' });
  await serveUntilStopped(servingProxy(running), {
    graceMs: config.shutdownGraceMs,
    repeatedSignal: 'ignore',
    attach: (control) => listenToPrimary(running, control),
  });
  log.info('worker stopped');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}
