// `mtls-sidecar run`: start the proxy and serve until SIGTERM/SIGINT, then drain within --shutdown-grace.
import type { Config } from '../config/types.js';
import { startProxy } from '../server/start-proxy.js';

export async function runCommand(config: Config): Promise<void> {
  const running = await startProxy(config);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      running.log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
      running.close().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  running.log.info('stopped');
  running.log.flush();
}
