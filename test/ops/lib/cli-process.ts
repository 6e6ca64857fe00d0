// Runs the built CLI (`node dist/main.js run …`) as a child process and reads its JSON log lines for ports and events.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poll } from '../../helpers/wait-for.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI_MAIN = join(REPO_ROOT, 'dist/main.js');

/** The skip reason when the CLI is not built, else false. */
export function cliMissing(): string | false {
  return existsSync(CLI_MAIN) ? false : 'dist/main.js is not built (npx tsc -p tsconfig.build.json)';
}

/** The flags every spawned proxy of these tests starts with: its upstream, the test PKI's server pair and CA. */
export function proxyArgs(
  pki: { server: { cert: string; key: string }; ca: { cert: string } },
  upstreamUrl: string,
): string[] {
  return ['--upstream', upstreamUrl, '--cert', pki.server.cert, '--key', pki.server.key, '--client-ca', pki.ca.cert];
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface CliProcess {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  lines(): LogLine[];
  stderr(): string;
  waitForLine(test: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Waits until `check` returns true, polling every `everyMs`, at most `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<boolean> {
  return poll(check, { timeoutMs, everyMs });
}

/**
 * Starts the CLI with `args` (listen and metrics ports default to 0) and waits for both listeners.
 * `wrap` puts a command in front of node (e.g. unshare for the PID 1 test).
 */
export async function startCli(
  args: string[],
  options: { wrap?: string[]; env?: Record<string, string> } = {},
): Promise<CliProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  const full = [
    'run',
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    '127.0.0.1:0',
    '--allow-insecure-posture',
    ...args,
  ];
  const argv = [...(options.wrap ?? []), process.execPath, CLI_MAIN, ...full];
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const parsed: LogLine[] = [];
  let pending = '';
  let errText = '';
  const waiters: Array<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      parsed.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (errText += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );

  const waitForLine = (test: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const found = parsed.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs}ms; stderr: ${errText}`)),
        timeoutMs,
      );
      const w = { test, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      waiters.push(w);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the CLI exited (${code}) before the expected log line; stderr: ${errText}`));
      });
    });
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const listening = await waitForLine((l) => l.msg === 'mtls-sidecar listening');
    const metrics = await waitForLine((l) => l.msg === 'metrics and probes listening');
    const port = Number(String(listening.listen).split(':').pop());
    const metricsPort = Number(String(metrics.metricsListen).split(':').pop());
    return { child, port, metricsPort, lines: () => parsed, stderr: () => errText, waitForLine, exited, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A plain-HTTP GET on the ops listener: status and body. */
export function opsGet(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One sample of the Prometheus text exposition, parsed independently of prom-client: 0 when absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      found[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[4]);
  }
  return 0;
}
