// Small process and socket helpers for the end-to-end tests: free ports, bounded waiting, child cleanup.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, release it). */
export async function pickFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

/** Polls `probe` until it returns true, the child exits, or the deadline passes (then throws with `describe()`). */
export async function waitUntil(
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; child?: ChildProcess; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (opts.child && opts.child.exitCode !== null) {
      throw new Error(`process exited with ${String(opts.child.exitCode)} before it was ready\n${opts.describe()}`);
    }
    if (await probe()) return;
    await sleep(100);
  }
  throw new Error(`not ready after ${opts.timeoutMs} ms\n${opts.describe()}`);
}

/** Keeps the last `limit` characters a child wrote, for failure messages. */
export function captureOutput(child: ChildProcess, limit = 4000): () => string {
  let text = '';
  const keep = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-limit);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
