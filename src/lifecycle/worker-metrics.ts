// The primary's /metrics with --workers: every ready worker's registry, plus the primary's own, aggregated per metric.
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricsSource } from '../ops/health-server.js';
import { isWorkerMessage, type WorkerMetricsJson } from './worker-messages.js';

interface PendingRequest {
  waiting: Set<Worker>;
  responses: WorkerMetricsJson[];
  finish(): void;
}

export interface ClusterMetrics extends MetricsSource {
  /** Feed every message a worker sends (the primary owns the listeners). */
  onWorkerMessage(worker: Worker, message: unknown): void;
  /** A worker that exits stops being waited for. */
  onWorkerExit(worker: Worker): void;
}

/**
 * prom-client's own `clusterMetrics()` asks every forked worker, including one still loading its modules,
 * and fails the whole scrape after 5 s when one does not answer; here only workers that said they are ready
 * are asked, an exiting worker is dropped, and a slow one is left out of that scrape (logged) after `timeoutMs`.
 */
export function createClusterMetrics(deps: {
  primary: Registry;
  readyWorkers: () => Worker[];
  log: Logger;
  timeoutMs?: number;
}): ClusterMetrics {
  const timeoutMs = deps.timeoutMs ?? 2000;
  const pending = new Map<number, PendingRequest>();
  let nextId = 1;

  const collect = (): Promise<WorkerMetricsJson[]> =>
    new Promise((resolve) => {
      const id = nextId++;
      const workers = deps.readyWorkers().filter((w) => w.isConnected());
      const request: PendingRequest = {
        waiting: new Set(workers),
        responses: [],
        finish: () => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(request.responses);
        },
      };
      const timer = setTimeout(() => {
        deps.log.warn(
          { workers: [...request.waiting].map((w) => w.process.pid) },
          'workers did not answer a metrics request in time; left out of this scrape',
        );
        request.finish();
      }, timeoutMs);
      pending.set(id, request);
      for (const worker of workers) {
        try {
          worker.send({ type: 'mtls-sidecar:metrics-request', id });
        } catch {
          request.waiting.delete(worker);
        }
      }
      if (request.waiting.size === 0) request.finish();
    });

  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    async metrics() {
      const fromWorkers = await collect();
      const own = await deps.primary.getMetricsAsJSON();
      return AggregatorRegistry.aggregate([...fromWorkers, own as WorkerMetricsJson]).metrics();
    },
    onWorkerMessage(worker, message) {
      if (!isWorkerMessage(message) || message.type !== 'mtls-sidecar:metrics') return;
      const request = pending.get(message.id);
      if (!request || !request.waiting.delete(worker)) return;
      request.responses.push(message.metrics);
      if (request.waiting.size === 0) request.finish();
    },
    onWorkerExit(worker) {
      for (const request of [...pending.values()]) {
        if (request.waiting.delete(worker) && request.waiting.size === 0) request.finish();
      }
    },
  };
}
