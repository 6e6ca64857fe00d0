// Test helper: runs the built CLI (`node dist/main.js …`) as a child process; exit code, stdout and stderr.
import { execFile } from 'node:child_process';
import { CLI_MAIN } from '../ops/lib/cli-process.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_MAIN, ...args],
      { env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
