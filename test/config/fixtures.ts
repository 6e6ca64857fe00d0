// Runner for the built CLI, shared by the config and CLI tests (the temp files live in test/helpers/temp-files.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { makeTempFiles, type TempFiles } from '../helpers/temp-files.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO, 'dist', 'main.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `node dist/main.js` with only the given MTLS_SIDECAR_* variables (none inherited from the test runner). */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): CliResult {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.build.json" first`);
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: cwd ?? tmpdir(),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
