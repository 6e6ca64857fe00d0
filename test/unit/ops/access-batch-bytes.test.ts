// Access lines batched as bytes on a file descriptor: read back from the file, every line is whole, in order, with
// multi-byte characters intact across batch boundaries; a line larger than a batch is written whole; a line logged
// after them comes after them; log.flush(cb) returns only once all of it is in the file.
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { logAccess } from '../../../src/record/access-log.js';
import { createLogger } from '../../../src/ops/logger.js';

t.test('byte batches keep every line whole and in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'access-bytes-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = createLogger('info', fd);
  const paths: string[] = [];
  for (let i = 0; i < 3000; i++) {
    // Mixed widths: ASCII, 2-byte, 3-byte and 4-byte (surrogate pair) characters; every 500th line ~90 KB.
    const filler = i % 500 === 499 ? 'ü'.repeat(30_000) + '日'.repeat(10_000) : `é日😀${'x'.repeat(i % 97)}`;
    const path = `/items/${i}/${filler}`;
    paths.push(path);
    logAccess(log, {
      requestId: `r${i}`,
      method: 'GET',
      path,
      status: 200,
      durationMs: i / 8,
      decision: 'allow',
      rule: null,
    });
  }
  log.warn({ after: paths.length }, 'a line after the access lines');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  // The descriptor stays open: the logger lives as long as the process, and its flush timer writes to it every
  // second (an empty write when there is nothing to flush), which on a closed descriptor is an uncaught EBADF.

  const lines = readFileSync(file, 'utf8').split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.equal(lines.length, paths.length + 1, 'every line is in the file');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  // Compared one by one: a failed comparison of 3,000 long strings would print megabytes.
  const firstWrong = paths.findIndex((path, i) => parsed[i]?.path !== path || parsed[i]?.requestId !== `r${i}`);
  t.equal(firstWrong, -1, 'access lines in order, byte for byte (index of the first that is not)');
  t.equal(parsed.at(-1)?.msg, 'a line after the access lines', 'the other line comes last');
  t.notOk(
    readFileSync(file).includes(Buffer.from([0xef, 0xbf, 0xbd])),
    'no replacement character: no character was split',
  );
});
