// Access lines on a pipe (how a container's stdout usually is), in a child process running the built logger:
// log.flush(cb) calls back only once every line logged before it is out, and an exit while the libuv thread pool
// is busy (so no asynchronous write can run any more) still writes every batched line.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { cliMissing, REPO_ROOT } from './lib/cli-process.js';

const dist = (file: string): string => pathToFileURL(join(REPO_ROOT, 'dist', file)).href;

const PRELUDE = `
import { writeSync, open } from 'node:fs';
import { createLogger } from '${dist('ops/logger.js')}';
import { logAccess } from '${dist('record/access-log.js')}';
const log = createLogger('info', 1);
let total = 0;
const line = () => logAccess(log, { requestId: 'r' + total++, method: 'GET', path: '/items/' + 'x'.repeat(200), status: 200, durationMs: 1.5, decision: 'allow', rule: null });
`;

/** Runs `body` after the prelude in a child whose stdout is a pipe; resolves with what it wrote. */
function runChild(
  body: string,
  env: NodeJS.ProcessEnv = {},
  onOutput?: (out: string) => void,
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', PRELUDE + body], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      onOutput?.(out);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

const accessIds = (lines: string[]): string[] =>
  lines.filter((l) => l.includes('"msg":"access"')).map((l) => String(JSON.parse(l).requestId));

t.test(
  'log.flush(cb) on a pipe: every earlier line is out before the callback, and no error',
  { skip: cliMissing() },
  async (t) => {
    // Batch sizes around the stream's 4 KiB threshold and the point where a write finishing mid-flush leaves a tail.
    const { out, code } = await runChild(`
for (let n = 150; n <= 200; n += 5) {
  for (let i = 0; i < n; i++) line();
  const err = await new Promise((resolve) => log.flush(resolve));
  writeSync(1, 'MARKER ' + total + ' ' + (err ? err.code : 'ok') + '\\n');
}
process.exit(0);
`);
    t.equal(code, 0);
    const lines = out.split('\n').filter(Boolean);
    const markers = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('MARKER'));
    t.equal(markers.length, 11, 'every round reported');
    for (const [marker, index] of markers) {
      const [, total, status] = marker.split(' ');
      t.equal(status, 'ok', `${marker}: no error from the flush`);
      t.equal(accessIds(lines.slice(0, index)).length, Number(total), `${marker}: all ${total} lines before it`);
    }
    t.equal(accessIds(lines).length, Number(markers.at(-1)?.[0].split(' ')[1]), 'none lost or repeated');
  },
);

t.test(
  'exit with every thread-pool thread blocked: batched lines are still written, in order',
  { skip: cliMissing() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'access-exit-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO with no writer blocks the pool thread doing it: all four are parked, without using CPU. Node
    // waits for them when the process ends, so once the lines are out (or after 5 s) the test opens the writing end.
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      try {
        // Non-blocking: a child that never opened the FIFO must not hang the test here (ENXIO then).
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader left: nothing to release.
      }
    };
    const fallback = setTimeout(release, 5000);
    const { out, code } = await runChild(
      `
for (let i = 0; i < 4; i++) open(${JSON.stringify(fifo)}, 'r', () => {});
setTimeout(() => {
  for (let i = 0; i < 40; i++) line();
  process.exit(0);
}, 200);
`,
      { UV_THREADPOOL_SIZE: '4' },
      (sofar) => {
        if (accessIds(sofar.split('\n').filter((l) => l.endsWith('}'))).length === 40) release();
      },
    );
    clearTimeout(fallback);
    t.equal(code, 0);
    t.same(
      accessIds(out.split('\n').filter(Boolean)),
      Array.from({ length: 40 }, (_, i) => `r${i}`),
      'all 40 access lines, in order',
    );
  },
);
