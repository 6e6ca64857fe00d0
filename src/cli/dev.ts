// `mtls-sidecar dev`: a local gateway with zero set-up — dev certificates, an echo upstream, a ready-to-paste curl.
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import type { ConfigInput } from '../config/types.js';
import { startEchoUpstream, type EchoUpstream } from '../dev/echo-upstream.js';
import { ensureDevMaterial } from '../devcerts/dev-material.js';
import { startProxy } from '../server/start-proxy.js';

export const DEV_DIR = '.mtls-dev';

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '127.0.0.1' || host === '::' || host === '::1') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export function curlCommand(m: { caCert: string; clientCert: string; clientKey: string }, host: string, port: number): string {
  return [
    'curl',
    '--cacert', shellQuote(m.caCert),
    '--cert', shellQuote(m.clientCert),
    '--key', shellQuote(m.clientKey),
    `https://${urlHost(host)}:${port}/hello`,
  ].join(' ');
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
  const running = await startProxy(config);
  process.stdout.write(
    `\nmtls-sidecar dev gateway on https://${urlHost(running.host)}:${running.port} -> ${echo ? 'built-in echo upstream' : config.upstream.origin}\n` +
      `development certificates in ${material.dir} (never use them in production)\n\n` +
      `try it:\n\n  ${curlCommand(material, running.host, running.port)}\n\n`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      running.close(2000).then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await echo?.close();
  running.log.flush();
}
