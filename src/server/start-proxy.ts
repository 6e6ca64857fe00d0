// Starts the proxy from a validated Config: loads material and policy, builds the server, listens.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { loadPolicy } from '../authz/load-policy.js';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { loadTlsMaterial, MaterialError, type TlsMaterial } from '../tls/material.js';
import { buildProxyServer, type ProxyServer } from './build-server.js';
import { SnapshotStore } from './snapshot.js';

export interface RunningProxy {
  config: Config;
  host: string;
  port: number;
  store: SnapshotStore;
  metrics: Metrics;
  log: Logger;
  proxy: ProxyServer;
  /** Stops accepting, lets in-flight requests finish within graceMs, then closes what is left. */
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

export async function startProxy(config: Config, options: { log?: Logger; metrics?: Metrics } = {}): Promise<RunningProxy> {
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? createMetrics();
  const material = loadMaterialOrRefuse(config);
  const { policy, digest } = loadPolicy(config);
  const store = new SnapshotStore({ material, policy, policyDigest: digest });
  const proxy = await buildProxyServer(config, { store, metrics, log });
  try {
    await proxy.app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    await proxy.app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([`--listen ${config.listen.host}:${config.listen.port}: cannot listen (${code}); pick a free port or an address of this host`]);
  }
  const address = proxy.server.address() as AddressInfo;
  log.info({ listen: `${address.address}:${address.port}`, upstream: config.upstream.origin }, 'mtls-sidecar listening');

  const close = async (graceMs = config.shutdownGraceMs): Promise<void> => {
    const timer = setTimeout(() => proxy.server.closeAllConnections(), graceMs);
    timer.unref();
    try {
      await proxy.app.close();
    } finally {
      clearTimeout(timer);
      proxy.stopGate();
    }
  };
  return { config, host: address.address, port: address.port, store, metrics, log, proxy, close };
}
