// The --workers primary: checks configuration and posture once, serves the ops listener, runs the worker pool that
// shares the TLS listener, and forwards reload and drain. Built from the same drain and ops pieces as one proxy.
import type { Worker } from 'node:cluster';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Config, HostPort } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { createMetrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import { enforcePosture } from '../posture/enforce.js';
import { loadInitialState } from '../state/load-state.js';
import { createDrain, type DrainSteps } from './drain.js';
import { startOpsEndpoint, type OpsEndpoint } from './ops-endpoint.js';
import { startWorkerPool, type WorkerPool } from './worker-pool.js';
import { createClusterMetrics } from './worker-metrics.js';
import { createSharedStdoutLogger } from './worker-process.js';

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
    throw new ConfigError([
      `--listen ${listen.host}:${listen.port}: cannot listen (${code}); pick a free port or an address of this host`,
    ]);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The refusals a single process would make, before anything is forked. */
async function refuseLikeOneProcess(
  config: Config,
  log: Logger,
  metrics: ReturnType<typeof createMetrics>,
): Promise<void> {
  // Posture is a fact about the host, so it is judged, logged and exported once, here.
  enforcePosture(config, { log, metrics });
  loadInitialState(config);
  await checkListenAvailable(config.listen);
}

function workersServing(pool: WorkerPool | undefined, size: number): string | null {
  const ready = pool?.readyWorkers().length ?? 0;
  return ready < size ? `workers ready ${ready}/${size}` : null;
}

/** What the primary runs, filled in as it starts; its drain stops whatever is there. */
interface PrimaryParts {
  pool?: WorkerPool;
  ops?: OpsEndpoint;
}

function primaryDrainSteps(log: Logger, parts: PrimaryParts): DrainSteps {
  return {
    drain: async (graceMs) => {
      log.info({ graceMs, workers: parts.pool?.pids().length ?? 0 }, 'draining workers');
      try {
        await parts.pool?.stop(graceMs);
      } finally {
        log.info('workers stopped');
        await parts.ops?.close();
      }
    },
    cut: () => {
      const { pool } = parts;
      for (const worker of pool?.readyWorkers() ?? [])
        pool?.send(worker, { type: 'mtls-sidecar:shutdown', graceMs: 0 });
    },
  };
}

export async function startWorkerPrimary(config: Config, options: { log?: Logger } = {}): Promise<WorkerPrimary> {
  const log = options.log ?? createSharedStdoutLogger(config.logLevel);
  const metrics = createMetrics({ defaultMetrics: false });
  await refuseLikeOneProcess(config, log, metrics);

  const parts: PrimaryParts = {};
  const drain = createDrain(primaryDrainSteps(log, parts));
  let rejectFailed: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);

  const readyWorkers = (): Worker[] => parts.pool?.readyWorkers() ?? [];
  const clusterMetrics = createClusterMetrics({ primary: metrics.registry, readyWorkers, log });
  const ops = await startOpsEndpoint(config, {
    registry: clusterMetrics,
    log,
    isDraining: drain.isDraining,
    serving: () => workersServing(parts.pool, config.workers),
  });
  parts.ops = ops;
  const pool = startWorkerPool(config, {
    log,
    onMessage: (worker, message) => clusterMetrics.onWorkerMessage(worker, message),
    onExit: (worker) => clusterMetrics.onWorkerExit(worker),
    onCrashLoop: (err) => void drain.close(config.shutdownGraceMs).then(() => rejectFailed(err)),
  });
  parts.pool = pool;
  try {
    await pool.started;
  } catch (err) {
    await drain.close(0);
    throw err;
  }
  log.info({ workers: pool.pids() }, 'all workers ready');

  return {
    log,
    readiness: ops.readiness,
    metricsAddress: ops.address,
    workerPids: () => pool.pids(),
    reload() {
      const workers = pool.readyWorkers();
      log.info({ workers: workers.map((w) => w.process.pid) }, 'reload: asking every worker to re-read its files');
      for (const worker of workers) pool.send(worker, { type: 'mtls-sidecar:reload' });
    },
    close: (graceMs) => drain.close(graceMs),
    failed,
  };
}
