// Starts the proxy from a validated Config: posture, material and policy, the server, the reloader, the ops listener.
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import { enforcePosture } from '../posture/enforce.js';
import { buildProxyServer, type ProxyServer } from '../listener/build-server.js';
import { loadInitialState } from '../state/load-state.js';
import {
  digestWatchedFiles,
  recordMaterialGauges,
  startReloader,
  warnStaleCrls,
  type ReloadResult,
  type ReloadTrigger,
} from '../state/reloader.js';
import { serverCertUsageProblems } from '../state/server-cert-usage.js';
import { SnapshotStore } from '../state/snapshot.js';
import { createDrain } from './drain.js';
import { startOpsEndpoint, type OpsEndpoint } from './ops-endpoint.js';

export interface RunningProxy {
  config: Config;
  host: string;
  port: number;
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
  proxy: ProxyServer;
  readiness: Readiness;
  /** Where /metrics, /healthz and /readyz listen; null with `--metrics-listen off`. */
  metricsAddress: OpsEndpoint['address'];
  /** Re-reads the watched files now (SIGHUP); the same check runs every --reload-interval. */
  reload(trigger?: ReloadTrigger): ReloadResult;
  /**
   * Drains: /readyz turns 503, the listener stops accepting, in-flight requests finish, idle keep-alive
   * connections close; whatever is still open after `graceMs` is cut. Resolves once everything is closed,
   * the ops listener last. A second call while draining returns the same promise; `close(0)` then cuts at once.
   */
  close(graceMs?: number): Promise<void>;
}

/** Every raw socket of the TLS listener, so a drain deadline can cut them whatever protocol runs on top. */
function trackSockets(server: ProxyServer['server']): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

async function listenOrRefuse(proxy: ProxyServer, config: Config): Promise<void> {
  try {
    await proxy.app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    await proxy.app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([
      `--listen ${config.listen.host}:${config.listen.port}: cannot listen (${code}); pick a free port or an address of this host`,
    ]);
  }
}

/** The snapshot store for `config`, with the expiry gauges set and what is worth a warning logged. */
function loadStore(config: Config, metrics: Metrics, log: Logger, warnedStaleCrls: Set<string>): SnapshotStore {
  const store = new SnapshotStore(loadInitialState(config));
  const { material } = store.current;
  recordMaterialGauges(metrics, material);
  warnStaleCrls(material, log, warnedStaleCrls);
  const leaf = material.serverChain[0];
  for (const problem of leaf ? serverCertUsageProblems(leaf.raw) : [])
    log.warn({ file: config.cert }, `server certificate: ${problem}`);
  return store;
}

export interface StartProxyOptions {
  log?: Logger;
  metrics?: Metrics;
  /**
   * Set in --workers processes: the primary has already probed, reported and enforced the posture once for the host.
   */
  postureEnforced?: boolean;
  /** `dev` on its default metrics port: take a free port when that one is in use. */
  metricsFallbackWhenBusy?: boolean;
}

export async function startProxy(config: Config, options: StartProxyOptions = {}): Promise<RunningProxy> {
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? createMetrics();
  if (options.postureEnforced !== true) enforcePosture(config, { log, metrics });
  // Taken before the files are read, so a change that lands while they are read is still seen by the reloader.
  const initialDigest = digestWatchedFiles(config);
  const warnedStaleCrls = new Set<string>();
  const store = loadStore(config, metrics, log, warnedStaleCrls);

  const drain = createDrain({ drain: (graceMs) => drainProxy(graceMs), cut: () => cutConnections() });
  const proxy = await buildProxyServer(config, { store, metrics, log, isDraining: drain.isDraining });
  const sockets = trackSockets(proxy.server);
  await listenOrRefuse(proxy, config);
  const address = proxy.server.address() as AddressInfo;
  log.info(
    { listen: `${address.address}:${address.port}`, upstream: config.upstream.origin },
    'mtls-sidecar listening',
  );

  let ops: OpsEndpoint;
  try {
    ops = await startOpsEndpoint(config, {
      registry: metrics.registry,
      log,
      isDraining: drain.isDraining,
      serving: () => (proxy.server.listening ? null : 'not listening'),
      fallbackWhenBusy: options.metricsFallbackWhenBusy,
    });
  } catch (err) {
    await proxy.app.close().catch(() => undefined);
    proxy.stopGate();
    throw err;
  }
  const reloader = startReloader({ config, store, server: proxy.server, metrics, log, initialDigest, warnedStaleCrls });

  function cutConnections(): void {
    if (sockets.size > 0) log.warn({ open: sockets.size }, 'shutdown grace over: closing the connections still open');
    for (const socket of sockets) socket.destroy();
  }
  async function drainProxy(graceMs: number): Promise<void> {
    reloader.stop();
    log.info({ graceMs, open: sockets.size }, 'draining: refusing new connections, finishing in-flight requests');
    const deadline = setTimeout(cutConnections, graceMs);
    // Keep-alive connections that finish their last request during the drain become idle: close them too.
    const sweep = setInterval(() => proxy.server.closeIdleConnections(), 100);
    try {
      await proxy.app.close();
    } finally {
      clearTimeout(deadline);
      clearInterval(sweep);
      proxy.stopGate();
      log.info('drained');
      await ops.close();
    }
  }

  return {
    config,
    host: address.address,
    port: address.port,
    store,
    metrics,
    log,
    proxy,
    readiness: ops.readiness,
    metricsAddress: ops.address,
    reload: (trigger = 'manual') => reloader.reload(trigger),
    close: (graceMs = config.shutdownGraceMs) => drain.close(graceMs),
  };
}
