// `mtls-sidecar dev`: a local gateway with zero set-up — dev certificates, an echo upstream, a ready-to-paste curl.
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { ENV_PREFIX } from '../config/flags.js';
import type { Config, ConfigInput } from '../config/types.js';
import { startEchoUpstream, type EchoUpstream } from '../dev/echo-upstream.js';
import { ensureDevMaterial } from '../devcerts/dev-material.js';
import { ConfigError } from '../errors.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { assessPosture, describePostureRefusal } from '../posture/enforce.js';
import type { Finding } from '../posture/types.js';
import { serveUntilStopped, servingProxy } from '../lifecycle/signals.js';
import { startProxy, type RunningProxy } from '../lifecycle/start-proxy.js';

export const DEV_DIR = '.mtls-dev';

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '127.0.0.1' || host === '::' || host === '::1') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export function curlCommand(
  m: { caCert: string; clientCert: string; clientKey: string },
  host: string,
  port: number,
): string {
  return [
    'curl',
    '--cacert',
    shellQuote(m.caCert),
    '--cert',
    shellQuote(m.clientCert),
    '--key',
    shellQuote(m.clientKey),
    `https://${urlHost(host)}:${port}/hello`,
  ].join(' ');
}

/**
 * The posture, judged once and told in one human paragraph (run logs one JSON line per finding and refuses critical
 * ones). Refuses like run only with --no-allow-insecure-posture. Findings are still exported as metrics.
 */
export function judgeDevPosture(
  config: Config,
  metrics: Metrics,
  findings: readonly Finding[] = assessPosture(config),
): string {
  const refusal = describePostureRefusal(findings);
  if (refusal.length > 0 && !config.allowInsecurePosture) throw new ConfigError(refusal);
  for (const f of findings) metrics.postureFinding.set({ id: f.id, severity: f.severity }, 1);
  const notable = findings.filter((f) => f.severity !== 'info');
  if (notable.length === 0) return '';
  const critical = notable.some((f) => f.severity === 'critical');
  return (
    `posture: ${notable.map((f) => `${f.id} (${f.severity})`).join(', ')}.\n` +
    (critical ? 'Fine for a local gateway on loopback; `mtls-sidecar run` refuses to start like this. ' : '') +
    '`mtls-sidecar check` with the same flags explains each finding and its fix.\n\n'
  );
}

/** Whether the operator chose --metrics-listen anywhere (then a busy port is an error, as in run). */
function metricsListenChosen(input: ConfigInput): boolean {
  return (
    input.flags['metrics-listen'] !== undefined ||
    input.env[`${ENV_PREFIX}METRICS_LISTEN`] !== undefined ||
    input.flags.config !== undefined ||
    input.env[`${ENV_PREFIX}CONFIG`] !== undefined
  );
}

function metricsText(running: RunningProxy): string {
  const m = running.metricsAddress;
  if (m === null) return '';
  const busy = m.fellBack ? ` (port ${running.config.metricsListen?.port} was in use)` : '';
  return `metrics and probes on http://${urlHost(m.host)}:${m.port}/metrics${busy}\n`;
}

export async function devCommand(input: ConfigInput): Promise<void> {
  const material = await ensureDevMaterial(path.resolve(DEV_DIR));
  const userUpstream = input.flags.upstream ?? input.env.MTLS_SIDECAR_UPSTREAM;
  let echo: EchoUpstream | undefined;
  if (userUpstream === undefined) echo = await startEchoUpstream();
  const config = loadConfig({
    ...input,
    fallbacks: {
      listen: '127.0.0.1:8443',
      upstream: echo?.url,
      cert: material.serverCert,
      key: material.serverKey,
      'client-ca': [material.caCert],
      'allow-uri': [material.clientUri],
      // A local development gateway on loopback: posture findings are reported, not enforced (a developer
      // container often runs as root). `run` enforces them; --no-allow-insecure-posture enforces here too.
      'allow-insecure-posture': true,
      ...input.fallbacks,
    },
  });
  const metrics = createMetrics();
  const posture = judgeDevPosture(config, metrics);
  const running = await startProxy(config, {
    metrics,
    postureEnforced: true,
    metricsFallbackWhenBusy: !metricsListenChosen(input),
  });
  // The start-up log lines first, so the human block below is not split by them.
  await new Promise<void>((resolve) => running.log.flush(() => resolve()));
  process.stdout.write(
    `\nmtls-sidecar dev gateway on https://${urlHost(running.host)}:${running.port} -> ${echo ? 'built-in echo upstream' : config.upstream.origin}\n` +
      `development certificates in ${material.dir} (never use them in production)\n` +
      metricsText(running) +
      `\n${posture}` +
      `try it:\n\n  ${curlCommand(material, running.host, running.port)}\n\n`,
  );
  await serveUntilStopped(servingProxy(running), { graceMs: 2000, repeatedSignal: 'cut' });
  await echo?.close();
  running.log.flush();
}
