// Starts the proxy from a validated Config: posture, material and policy, the server, the reloader, the ops listener.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { loadPolicy } from '../authz/load-policy.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { startHealthServer, type HealthServer } from '../ops/health-server.js';
import { createLogger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { createReadiness, startUpstreamProbe, type Readiness, type UpstreamProbe } from '../ops/readiness.js';
import { enforcePosture } from '../posture/enforce.js';
import { loadTlsMaterial, MaterialError, type TlsMaterial } from '../state/material.js';
import { serverCertUsageProblems } from '../state/server-cert-usage.js';
import {
  digestWatchedFiles,
  recordMaterialGauges,
  startReloader,
  warnStaleCrls,
  type ReloadableServer,
  type ReloadResult,
  type ReloadTrigger,
} from '../state/reloader.js';
import { buildProxyServer, type ProxyServer } from '../listener/build-server.js';
import { SnapshotStore } from '../state/snapshot.js';

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
  metricsAddress: { host: string; port: number; fellBack?: boolean } | null;
  /** Re-reads the watched files now (SIGHUP); the same check runs every --reload-interval. */
  reload(trigger?: ReloadTrigger): ReloadResult;
  /**
   * Drains: /readyz turns 503, the listener stops accepting, in-flight requests finish, idle keep-alive
   * connections close; whatever is still open after `graceMs` is cut. Resolves once everything is closed,
   * the ops listener last. A second call while draining returns the same promise; `close(0)` then cuts at once.
   */
  close(graceMs?: number): Promise<void>;
}

export function loadMaterialOrRefuse(config: Config): TlsMaterial {
  try {
    return loadTlsMaterial({ cert: config.cert, key: config.key, clientCa: config.clientCa, crl: config.crl });
  } catch (err) {
    if (err instanceof MaterialError) throw new ConfigError(err.problems);
    throw err;
  }
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
    throw new ConfigError([`--listen ${config.listen.host}:${config.listen.port}: cannot listen (${code}); pick a free port or an address of this host`]);
  }
}

export interface StartProxyOptions {
  log?: Logger;
  metrics?: Metrics;
  /** Set in --workers processes: the primary has already probed, reported and enforced the posture once for the host. */
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
  const material = loadMaterialOrRefuse(config);
  const { policy, digest } = loadPolicy(config, material.caCerts);
  const store = new SnapshotStore({ material, policy, policyDigest: digest });
  const warnedStaleCrls = new Set<string>();
  recordMaterialGauges(metrics, material);
  warnStaleCrls(material, log, warnedStaleCrls);
  const leaf = material.serverChain[0];
  for (const problem of leaf ? serverCertUsageProblems(leaf.raw) : []) log.warn({ file: config.cert }, `server certificate: ${problem}`);

  const proxy = await buildProxyServer(config, { store, metrics, log });
  const sockets = trackSockets(proxy.server);
  await listenOrRefuse(proxy, config);
  const address = proxy.server.address() as AddressInfo;
  log.info({ listen: `${address.address}:${address.port}`, upstream: config.upstream.origin }, 'mtls-sidecar listening');

  const probe: UpstreamProbe = config.metricsListen ? startUpstreamProbe(config.upstream, log) : { reachable: true, stop: () => undefined };
  const readiness = createReadiness({ isListening: () => proxy.server.listening, hasMaterial: () => store.current.material !== undefined, upstream: probe });
  let health: HealthServer | null = null;
  if (config.metricsListen) {
    try {
      health = await startHealthServer(config.metricsListen, { registry: metrics.registry, readiness, log }, { fallbackWhenBusy: options.metricsFallbackWhenBusy });
    } catch (err) {
      probe.stop();
      await proxy.app.close().catch(() => undefined);
      proxy.stopGate();
      throw err;
    }
  }
  const reloader = startReloader({
    config,
    store,
    server: proxy.server as unknown as ReloadableServer,
    metrics,
    log,
    initialDigest,
    warnedStaleCrls,
  });

  let closing: Promise<void> | null = null;
  let cutNow: () => void = () => undefined;
  const drain = async (graceMs: number): Promise<void> => {
    readiness.startDraining();
    reloader.stop();
    log.info({ graceMs, open: sockets.size }, 'draining: refusing new connections, finishing in-flight requests');
    const cut = (): void => {
      if (sockets.size > 0) log.warn({ open: sockets.size }, 'shutdown grace over: closing the connections still open');
      for (const socket of sockets) socket.destroy();
    };
    cutNow = cut;
    const deadline = setTimeout(cut, graceMs);
    // Keep-alive connections that finish their last request during the drain become idle: close them too.
    // The listener may be an http2 server carrying HTTP/1.1 (allowHTTP1): Node tracks those connections with
    // the http.Server machinery, which is why its method is borrowed here.
    const sweep = setInterval(() => http.Server.prototype.closeIdleConnections.call(proxy.server as unknown as http.Server), 100);
    try {
      await proxy.app.close();
    } finally {
      clearTimeout(deadline);
      clearInterval(sweep);
      proxy.stopGate();
      probe.stop();
      log.info('drained');
      await health?.close();
    }
  };
  const close = (graceMs = config.shutdownGraceMs): Promise<void> => {
    if (closing) {
      if (graceMs === 0) cutNow();
      return closing;
    }
    closing = drain(graceMs);
    return closing;
  };
  return {
    config,
    host: address.address,
    port: address.port,
    store,
    metrics,
    log,
    proxy,
    readiness,
    metricsAddress: health ? { host: health.host, port: health.port, fellBack: health.fellBack } : null,
    reload: (trigger = 'manual') => reloader.reload(trigger),
    close,
  };
}
