// The --workers processes: forks one per slot, tells when all are ready, restarts crashed ones with back-off, gives up
// on a crash loop, and stops them (drain on request, kill past the grace period).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ConfigError, EXIT_CONFIG } from '../errors.js';
import { isWorkerMessage, type PrimaryMessage } from './worker-messages.js';

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

export interface WorkerPool {
  readyWorkers(): Worker[];
  pids(): number[];
  /** Resolves once every slot has been ready; rejects (78 for a configuration refusal) when a worker exits first. */
  started: Promise<void>;
  send(worker: Worker, message: PrimaryMessage): void;
  /** Drains the ready workers and stops the starting ones; kills whatever outlives the grace period. */
  stop(graceMs: number): Promise<void>;
}

export interface WorkerPoolDeps {
  log: Logger;
  /** Every message a worker sends (the metrics answers). */
  onMessage(worker: Worker, message: unknown): void;
  onExit(worker: Worker): void;
  /** A slot failed too often in a row: the primary must stop. */
  onCrashLoop(err: Error): void;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`;
}

function restartDelay(failures: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (failures - 1));
}

function timeout(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(resolve, ms, 'timeout').unref());
}

export function startWorkerPool(config: Pick<Config, 'workers' | 'shutdownGraceMs'>, deps: WorkerPoolDeps): WorkerPool {
  const { log } = deps;
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    worker: null,
    ready: false,
    readyAt: 0,
    failures: 0,
  }));
  const readyWorkers = (): Worker[] => slots.flatMap((s) => (s.ready && s.worker ? [s.worker] : []));
  let stopping = false;
  let isStarted = false;
  let onAllExited: () => void = () => undefined;
  let settleStart!: (err?: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    settleStart = (err) => (err ? reject(err) : resolve());
  });

  const send = (worker: Worker, message: PrimaryMessage): void => {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch (err) {
      log.warn({ worker: worker.process.pid, err: (err as Error).message }, 'could not message a worker');
    }
  };

  const onReady = (slot: Slot, worker: Worker): void => {
    slot.ready = true;
    slot.readyAt = Date.now();
    log.info({ worker: worker.process.pid, slot: slot.index }, 'worker ready');
    if (stopping) send(worker, { type: 'mtls-sidecar:shutdown', graceMs: config.shutdownGraceMs });
    else if (!isStarted && slots.every((s) => s.ready)) {
      isStarted = true;
      settleStart();
    }
  };

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: unknown) => {
      deps.onMessage(worker, message);
      if (isWorkerMessage(message) && message.type === 'mtls-sidecar:ready' && slot.worker === worker)
        onReady(slot, worker);
    });
    worker.on('exit', (code: number | null, signal: string | null) => onExit(slot, worker, code, signal));
  };

  /** A worker that exits before all were ready fails the start; exit 78 is its configuration refusal (on stderr). */
  const failStart = (pid: number | undefined, code: number | null, signal: string | null): void => {
    settleStart(
      code === EXIT_CONFIG
        ? new ConfigError([
            `--workers ${slots.length}: a worker could not start (${describeExit(code, signal)}, reason above); stopped the others`,
          ])
        : new Error(`a worker (pid ${pid}) stopped before it was ready (${describeExit(code, signal)})`),
    );
  };

  const restart = (
    slot: Slot,
    wasReady: boolean,
    pid: number | undefined,
    code: number | null,
    signal: string | null,
  ): void => {
    if (wasReady && Date.now() - slot.readyAt >= STABLE_AFTER_MS) slot.failures = 0;
    slot.failures += 1;
    if (slot.failures > CRASH_LOOP_LIMIT) {
      log.fatal(
        { worker: pid, slot: slot.index, failures: slot.failures },
        'a worker keeps failing; stopping every worker',
      );
      const problem = `--workers: worker slot ${slot.index} failed ${slot.failures} times in a row (last: ${describeExit(code, signal)}); see the log`;
      // 78 when the replacements were refusing their configuration (files broken since start), as a fresh start
      // would be.
      deps.onCrashLoop(code === EXIT_CONFIG ? new ConfigError([problem]) : new Error(problem));
      return;
    }
    const delay = restartDelay(slot.failures);
    log.error(
      { worker: pid, slot: slot.index, reason: describeExit(code, signal), restartInMs: delay },
      'worker exited unexpectedly; starting a new one',
    );
    slot.restartTimer = setTimeout(() => fork(slot), delay);
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    deps.onExit(worker);
    if (slot.worker !== worker) return;
    const wasReady = slot.ready;
    slot.worker = null;
    slot.ready = false;
    if (stopping) {
      if (slots.every((s) => s.worker === null)) onAllExited();
    } else if (!isStarted) {
      failStart(worker.process.pid, code, signal);
    } else {
      restart(slot, wasReady, worker.process.pid, code, signal);
    }
  };

  const stop = async (graceMs: number): Promise<void> => {
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
    if ((await Promise.race([exited, timeout(graceMs + EXIT_MARGIN_MS)])) !== 'timeout') return;
    const left = slots.flatMap((s) => (s.worker ? [s.worker] : []));
    log.warn({ workers: left.map((w) => w.process.pid) }, 'workers still running after the grace period; killing them');
    for (const worker of left) worker.process.kill('SIGKILL');
    await Promise.race([exited, timeout(2000)]);
  };

  cluster.setupPrimary({ serialization: 'advanced' });
  log.info({ workers: slots.length }, 'starting workers');
  for (const slot of slots) fork(slot);
  return {
    readyWorkers,
    pids: () => slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : [])),
    started,
    send,
    stop,
  };
}
