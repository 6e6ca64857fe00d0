// The --workers primary: checks configuration and posture once, serves the ops listener, forks workers that share the TLS listener, restarts crashed ones, forwards reload and drain.
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import type { Logger } from 'pino';
import { loadPolicy } from '../authz/load-policy.js';
import type { Config, HostPort } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { startHealthServer, type HealthServer } from '../ops/health-server.js';
import { createMetrics } from '../ops/metrics.js';
import { startUpstreamProbe, type Readiness, type UpstreamProbe } from '../ops/readiness.js';
import { enforcePosture } from '../posture/enforce.js';
import { createClusterMetrics } from './worker-metrics.js';
import { isWorkerMessage, type PrimaryMessage } from './worker-messages.js';
import { createSharedStdoutLogger } from './worker-process.js';
import { loadMaterialOrRefuse } from './start-proxy.js';

const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A worker that served this long before dying is not part of a crash loop: its slot's back-off starts over. */
const STABLE_AFTER_MS = 30_000;
/** Consecutive failures of one slot before the primary gives up and stops (a supervisor can then restart the pod). */
const CRASH_LOOP_LIMIT = 8;
/** How long past --shutdown-grace the primary waits for a worker's own drain before killing it. */
const EXIT_MARGIN_MS = 5_000;

interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  readyAt: number;
  failures: number;
  restartTimer?: NodeJS.Timeout;
}

export interface WorkerPrimary {
  log: Logger;
  readiness: Readiness;
  metricsAddress: HostPort | null;
  /** Process ids of the workers now running. */
  workerPids(): number[];
  /** Every ready worker re-reads its files now (SIGHUP on the primary). */
  reload(): void;
  /** /readyz 503 at once, every worker drains within `graceMs`; `close(0)` while draining cuts at once. */
  close(graceMs: number): Promise<void>;
  /** Rejects when a worker slot crash-loops and the primary has stopped everything; never resolves. */
  failed: Promise<never>;
}

/** Binds and releases --listen once, so a port in use is one clear refusal here rather than one per worker. */
async function checkListenAvailable(listen: HostPort): Promise<void> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: listen.host, port: listen.port, exclusive: true }, resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([`--listen ${listen.host}:${listen.port}: cannot listen (${code}); pick a free port or an address of this host`]);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`;
}

export async function startWorkerPrimary(config: Config, options: { log?: Logger } = {}): Promise<WorkerPrimary> {
  const log = options.log ?? createSharedStdoutLogger(config.logLevel);
  // Posture is a fact about the host, so it is judged, logged and exported once, here.
  const metrics = createMetrics({ defaultMetrics: false });
  enforcePosture(config, { log, metrics });
  // The same refusals as a single process, before anything is forked.
  loadPolicy(config, loadMaterialOrRefuse(config).caCerts);
  await checkListenAvailable(config.listen);

  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({ index, worker: null, ready: false, readyAt: 0, failures: 0 }));
  const readyWorkers = (): Worker[] => slots.flatMap((s) => (s.ready && s.worker ? [s.worker] : []));
  const clusterMetrics = createClusterMetrics({ primary: metrics.registry, readyWorkers, log });
  const probe: UpstreamProbe = config.metricsListen ? startUpstreamProbe(config.upstream, log) : { reachable: true, stop: () => undefined };
  let draining = false;
  const readiness: Readiness = {
    notReadyReasons() {
      const reasons: string[] = [];
      if (draining) reasons.push('draining');
      const ready = readyWorkers().length;
      if (ready < slots.length) reasons.push(`workers ready ${ready}/${slots.length}`);
      if (!probe.reachable) reasons.push('upstream not reachable');
      return reasons;
    },
    get draining() {
      return draining;
    },
    startDraining() {
      draining = true;
    },
  };
  let health: HealthServer | null = null;
  if (config.metricsListen) {
    try {
      health = await startHealthServer(config.metricsListen, { registry: clusterMetrics, readiness, log });
    } catch (err) {
      probe.stop();
      throw err;
    }
  }

  let stopping = false;
  let started = false;
  let onStarted: (err?: Error) => void = () => undefined;
  let onAllExited: () => void = () => undefined;
  let rejectFailed: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);

  const send = (worker: Worker, message: PrimaryMessage): void => {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch (err) {
      log.warn({ worker: worker.process.pid, err: (err as Error).message }, 'could not message a worker');
    }
  };

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: unknown) => {
      clusterMetrics.onWorkerMessage(worker, message);
      if (!isWorkerMessage(message) || message.type !== 'mtls-sidecar:ready' || slot.worker !== worker) return;
      slot.ready = true;
      slot.readyAt = Date.now();
      log.info({ worker: worker.process.pid, slot: slot.index }, 'worker ready');
      if (stopping) send(worker, { type: 'mtls-sidecar:shutdown', graceMs: config.shutdownGraceMs });
      else if (!started && slots.every((s) => s.ready)) {
        started = true;
        onStarted();
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => onExit(slot, worker, code, signal));
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    clusterMetrics.onWorkerExit(worker);
    if (slot.worker !== worker) return;
    const wasReady = slot.ready;
    slot.worker = null;
    slot.ready = false;
    const pid = worker.process.pid;
    if (stopping) {
      if (slots.every((s) => s.worker === null)) onAllExited();
      return;
    }
    if (!started) {
      // Exit 78 is a worker's configuration refusal, already printed on stderr by that worker.
      const err =
        code === 78
          ? new ConfigError([`--workers ${slots.length}: a worker could not start (${describeExit(code, signal)}, reason above); stopped the others`])
          : new Error(`a worker (pid ${pid}) stopped before it was ready (${describeExit(code, signal)})`);
      onStarted(err);
      return;
    }
    if (wasReady && Date.now() - slot.readyAt >= STABLE_AFTER_MS) slot.failures = 0;
    slot.failures += 1;
    if (slot.failures > CRASH_LOOP_LIMIT) {
      log.fatal({ worker: pid, slot: slot.index, failures: slot.failures }, 'a worker keeps failing; stopping every worker');
      const problem = `--workers: worker slot ${slot.index} failed ${slot.failures} times in a row (last: ${describeExit(code, signal)}); see the log`;
      // 78 when the replacements were refusing their configuration (files broken since start), like a fresh start would.
      void close(config.shutdownGraceMs).then(() => rejectFailed(code === 78 ? new ConfigError([problem]) : new Error(problem)));
      return;
    }
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (slot.failures - 1));
    log.error({ worker: pid, slot: slot.index, reason: describeExit(code, signal), restartInMs: delay }, 'worker exited unexpectedly; starting a new one');
    slot.restartTimer = setTimeout(() => fork(slot), delay);
  };

  /** Drains the ready workers and stops the starting ones; kills whatever outlives the grace period. */
  const stopWorkers = async (graceMs: number): Promise<void> => {
    stopping = true;
    const exited = new Promise<void>((resolve) => (onAllExited = resolve));
    for (const slot of slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      if (!slot.worker) continue;
      // A worker still starting has no drain to do (and no handler yet): the signal's default ends it.
      if (slot.ready) send(slot.worker, { type: 'mtls-sidecar:shutdown', graceMs });
      else slot.worker.process.kill('SIGTERM');
    }
    if (slots.every((s) => s.worker === null)) return;
    const timeout = (ms: number): Promise<'timeout'> => new Promise((resolve) => setTimeout(resolve, ms, 'timeout').unref());
    if ((await Promise.race([exited, timeout(graceMs + EXIT_MARGIN_MS)])) !== 'timeout') return;
    const left = slots.flatMap((s) => (s.worker ? [s.worker] : []));
    log.warn({ workers: left.map((w) => w.process.pid) }, 'workers still running after the grace period; killing them');
    for (const worker of left) worker.process.kill('SIGKILL');
    await Promise.race([exited, timeout(2000)]);
  };

  let closing: Promise<void> | null = null;
  const close = (graceMs: number): Promise<void> => {
    if (closing) {
      if (graceMs === 0) for (const worker of readyWorkers()) send(worker, { type: 'mtls-sidecar:shutdown', graceMs: 0 });
      return closing;
    }
    draining = true;
    log.info({ graceMs, workers: slots.filter((s) => s.worker).length }, 'draining workers');
    closing = stopWorkers(graceMs).finally(async () => {
      probe.stop();
      log.info('workers stopped');
      await health?.close();
    });
    return closing;
  };

  cluster.setupPrimary({ serialization: 'advanced' });
  log.info({ workers: slots.length }, 'starting workers');
  const startedOrFailed = new Promise<void>((resolve, reject) => {
    onStarted = (err) => (err ? reject(err) : resolve());
  });
  for (const slot of slots) fork(slot);
  try {
    await startedOrFailed;
  } catch (err) {
    await close(0);
    throw err;
  }
  log.info({ workers: slots.map((s) => s.worker?.process.pid) }, 'all workers ready');

  return {
    log,
    readiness,
    metricsAddress: health ? { host: health.host, port: health.port } : null,
    workerPids: () => slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : [])),
    reload() {
      const workers = readyWorkers();
      log.info({ workers: workers.map((w) => w.process.pid) }, 'reload: asking every worker to re-read its files');
      for (const worker of workers) send(worker, { type: 'mtls-sidecar:reload' });
    },
    close,
    failed,
  };
}
