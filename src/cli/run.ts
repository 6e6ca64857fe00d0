// `mtls-sidecar run`: start the proxy and serve until SIGTERM/SIGINT. (stub — owner: core)
import type { Config } from '../config/types.js';

export async function runCommand(_config: Config): Promise<void> {
  throw new Error('not implemented');
}
