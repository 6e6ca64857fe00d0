// What every serving process (one proxy, or the workers' primary) runs beside its traffic: the upstream probe, the
// readiness built on the drain flag, and the ops listener (/metrics, /healthz, /readyz).
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { startHealthServer, type MetricsSource } from '../ops/health-server.js';
import { createReadiness, startUpstreamProbe, type Readiness, type UpstreamProbe } from '../ops/readiness.js';

export interface OpsEndpoint {
  readiness: Readiness;
  /** Where /metrics, /healthz and /readyz listen; null with `--metrics-listen off`. */
  address: { host: string; port: number; fellBack?: boolean } | null;
  /** Stops the probe, then the ops listener. */
  close(): Promise<void>;
}

export interface OpsDeps {
  registry: MetricsSource;
  log: Logger;
  isDraining(): boolean;
  /** Why traffic is not served yet, or null when it is. */
  serving(): string | null;
  /** `dev` on its default metrics port: take a free port when that one is in use. */
  fallbackWhenBusy?: boolean;
}

/** Without an ops listener no one asks for readiness, so the upstream is not probed either. */
const NOT_PROBED: UpstreamProbe = { reachable: true, stop: () => undefined };

export async function startOpsEndpoint(
  config: Pick<Config, 'metricsListen' | 'upstream'>,
  deps: OpsDeps,
): Promise<OpsEndpoint> {
  const probe = config.metricsListen ? startUpstreamProbe(config.upstream, deps.log) : NOT_PROBED;
  const readiness = createReadiness({ isDraining: deps.isDraining, serving: deps.serving, upstream: probe });
  if (!config.metricsListen) return { readiness, address: null, close: async () => probe.stop() };
  try {
    const health = await startHealthServer(
      config.metricsListen,
      { registry: deps.registry, readiness, log: deps.log },
      { fallbackWhenBusy: deps.fallbackWhenBusy },
    );
    return {
      readiness,
      address: { host: health.host, port: health.port, fellBack: health.fellBack },
      close: async () => {
        probe.stop();
        await health.close();
      },
    };
  } catch (err) {
    probe.stop();
    throw err;
  }
}
