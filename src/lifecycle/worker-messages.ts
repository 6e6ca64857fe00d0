// The IPC messages between the --workers primary and its worker processes, and guards for what arrives.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

const PREFIX = 'mtls-sidecar:';

export type WorkerMetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Primary → worker. */
export type PrimaryMessage =
  | { type: 'mtls-sidecar:reload' }
  /** Drain within `graceMs`; a second one with 0 cuts what is still open. */
  | { type: 'mtls-sidecar:shutdown'; graceMs: number }
  | { type: 'mtls-sidecar:metrics-request'; id: number };

/** Worker → primary. */
export type WorkerMessage =
  /** Listening with material and policy loaded. */
  { type: 'mtls-sidecar:ready' } | { type: 'mtls-sidecar:metrics'; id: number; metrics: WorkerMetricsJson };

function hasOurType(value: unknown): value is { type: string } & Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    (value as { type: string }).type.startsWith(PREFIX)
  );
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  if (!hasOurType(value)) return false;
  switch (value.type) {
    case 'mtls-sidecar:reload':
      return true;
    case 'mtls-sidecar:shutdown':
      return typeof value.graceMs === 'number' && value.graceMs >= 0;
    case 'mtls-sidecar:metrics-request':
      return typeof value.id === 'number';
    default:
      return false;
  }
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (!hasOurType(value)) return false;
  switch (value.type) {
    case 'mtls-sidecar:ready':
      return true;
    case 'mtls-sidecar:metrics':
      return typeof value.id === 'number' && Array.isArray(value.metrics);
    default:
      return false;
  }
}
