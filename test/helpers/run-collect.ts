// Runs an independent peer (openssl s_client, curl) without blocking the event loop — the proxy under test runs in this
// process — feeding it `input` and collecting stdout and stderr together; killed after a bound.
import { spawn } from 'node:child_process';

export function runCollect(
  cmd: string,
  args: string[],
  input: string,
  timeoutMs = 15_000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(input);
  });
}
