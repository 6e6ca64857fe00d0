// Runs the built sidecar (`node dist/main.js`) as a child process and waits until it completes a TLS handshake.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { captureOutput, stopChild, waitUntil } from './net-wait.js';
import { REPO_ROOT } from './paths.js';
import { handshakes, type Caller } from './tls-client.js';

export const SIDECAR_MAIN = join(REPO_ROOT, 'dist/main.js');

/** The skip reason when the sidecar is not built, else false. */
export function sidecarMissing(): string | false {
  return existsSync(SIDECAR_MAIN) ? false : 'dist/main.js is not built yet (npm run build)';
}

export interface SidecarProcess {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `node dist/main.js ARGS` with `env` added to a copy of this process's environment from which
 * every MTLS_SIDECAR_* variable was removed, so the runner's own settings never leak in.
 */
export async function startSidecar(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  probeAs: Caller,
): Promise<SidecarProcess> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  const child = spawn(process.execPath, [SIDECAR_MAIN, ...args], {
    cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitUntil(() => handshakes(probeAs), { timeoutMs: 20_000, child, describe: output });
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, output, stop };
}
