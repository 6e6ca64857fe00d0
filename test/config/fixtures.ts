// Shared helpers for config tests: temp files standing in for certificates, and a runner for the built CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO, 'dist', 'main.js');

export interface TempFiles {
  dir: string;
  cert: string;
  key: string;
  ca: string;
  ca2: string;
  crl: string;
  policy: string;
  /** Write a file into the temp dir and return its path. */
  write: (name: string, text: string) => string;
  cleanup: () => void;
}

/** Files whose content does not matter to config loading: only existence and readability are checked. */
export function makeTempFiles(): TempFiles {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-config-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return {
    dir,
    cert: write('server.crt', 'not really a certificate\n'),
    key: write('server.key', 'not really a key\n'),
    ca: write('ca.pem', 'not really a CA\n'),
    ca2: write('ca2.pem', 'not really a second CA\n'),
    crl: write('ca.crl', 'not really a CRL\n'),
    policy: write('policy.yaml', 'routes: []\n'),
    write,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

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
