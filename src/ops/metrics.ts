// Every metric of README "Probes and metrics" on one injected prom-client registry (no globals, so tests and workers
// never collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countInPlainNumbers, observeInPlainNumbers } from './plain-counts.js';
import { REJECT_REASONS } from './reject-reasons.js';

const PREFIX = 'mtls_sidecar_';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'code'>;
  requestDuration: Histogram<never>;
  handshakeFailures: Counter<'reason'>;
  authzDecisions: Counter<'decision'>;
  upstreamErrors: Counter<'reason'>;
  activeConnections: Gauge<never>;
  connectionsRefused: Counter<'reason'>;
  certificateNotAfter: Gauge<'role' | 'subject'>;
  reloads: Counter<'result'>;
  postureFinding: Gauge<'id' | 'severity'>;
  crlNextUpdate: Gauge<'issuer'>;
  clientCertRemaining: Histogram<never>;
}

const DAY = 86_400;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** Keeps the `method` label bounded whatever a caller sends. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

// Bounded label values known in advance, written at 0 so every series is visible before its first event
// (alerts on `rate()` need the series to exist; a dashboard should not show "no data" for a healthy proxy).
const AUTHZ_DECISIONS = ['allow', 'deny', 'bad_request', 'no_identity'] as const;
const UPSTREAM_REASONS = ['timeout', 'refused', 'reset', 'tls', 'other'] as const;
const RELOAD_RESULTS = ['success', 'failure'] as const;
export const REFUSAL_REASONS = ['max_connections', 'max_handshakes'] as const;

function initializeLabels(m: Metrics): void {
  for (const reason of REJECT_REASONS) m.handshakeFailures.inc({ reason }, 0);
  for (const decision of AUTHZ_DECISIONS) m.authzDecisions.inc({ decision }, 0);
  for (const reason of UPSTREAM_REASONS) m.upstreamErrors.inc({ reason }, 0);
  for (const result of RELOAD_RESULTS) m.reloads.inc({ result }, 0);
  for (const reason of REFUSAL_REASONS) m.connectionsRefused.inc({ reason }, 0);
}

/**
 * prom-client's default gauges that end in `_total`, which Prometheus reserves for counters (`promtool check metrics`
 * fails on them). Each is the sum over the labelled gauge of the same name without `_total`, which stays.
 */
const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The metrics every request updates count in plain numbers until a read (see plain-counts.ts). */
function countPerRequestInPlainNumbers(m: Metrics): void {
  countInPlainNumbers(m.requests, ['method', 'code']);
  countInPlainNumbers(m.authzDecisions, ['decision']);
  observeInPlainNumbers(m.requestDuration, REQUEST_DURATION_BUCKETS);
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    // The event-loop-lag histogram samples at 100 ms, not prom-client's 10 ms: at 10 ms it wakes an idle sidecar 100
    // times a second (~4 ms of CPU per second in every pod).
    collectDefaultMetrics({ register: registry, prefix: PREFIX, eventLoopMonitoringPrecision: 100 });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(`${PREFIX}${name}`);
  }
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    requests: new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests answered, by method and status code',
      labelNames: ['method', 'code'],
      registers,
    }),
    requestDuration: new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time from request start to response end',
      buckets: REQUEST_DURATION_BUCKETS,
      registers,
    }),
    handshakeFailures: new Counter({
      name: `${PREFIX}tls_handshake_failures_total`,
      help: 'Rejected TLS connections, by reason',
      labelNames: ['reason'],
      registers,
    }),
    authzDecisions: new Counter({
      name: `${PREFIX}authz_decisions_total`,
      help: 'Authorization decisions (allow, deny, bad_request, no_identity)',
      labelNames: ['decision'],
      registers,
    }),
    upstreamErrors: new Counter({
      name: `${PREFIX}upstream_errors_total`,
      help: 'Upstream failures (timeout, refused, reset, other)',
      labelNames: ['reason'],
      registers,
    }),
    // With --workers the primary aggregates every worker's registry: connections add up, while expiry times
    // and findings are facts about shared files and the host, so summing them would be meaningless (the
    // earliest expiry is the one an operator must act on).
    activeConnections: new Gauge({
      name: `${PREFIX}active_connections`,
      help: 'Open verified TLS connections',
      registers,
      aggregator: 'sum',
    }),
    connectionsRefused: new Counter({
      name: `${PREFIX}connections_refused_total`,
      help: 'Caller connections closed at accept, before TLS, by the limit that was reached',
      labelNames: ['reason'],
      registers,
    }),
    certificateNotAfter: new Gauge({
      name: `${PREFIX}certificate_not_after_seconds`,
      help: 'Expiry (unix seconds) of the loaded server and CA certificates',
      labelNames: ['role', 'subject'],
      registers,
      aggregator: 'min',
    }),
    reloads: new Counter({
      name: `${PREFIX}reloads_total`,
      help: 'Material and policy reloads, by result',
      labelNames: ['result'],
      registers,
    }),
    postureFinding: new Gauge({
      name: `${PREFIX}posture_finding`,
      help: 'Posture findings at start (1 = present)',
      labelNames: ['id', 'severity'],
      registers,
      aggregator: 'max',
    }),
    crlNextUpdate: new Gauge({
      name: `${PREFIX}crl_next_update_seconds`,
      help: 'nextUpdate (unix seconds) of each loaded CRL',
      labelNames: ['issuer'],
      registers,
      aggregator: 'min',
    }),
    clientCertRemaining: new Histogram({
      name: `${PREFIX}client_certificate_remaining_seconds`,
      help: "Remaining lifetime of callers' certificates at handshake",
      buckets: [3600, DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY, 3 * 365 * DAY],
      registers,
    }),
  };
  initializeLabels(metrics);
  countPerRequestInPlainNumbers(metrics);
  return metrics;
}
