// Preloaded (node --expose-gc --import) into a process under test by bench/idle-memory.mjs: on SIGUSR2, after a full
// collection, appends process.memoryUsage() and V8's heap-space sizes as one JSON line to $MEM_PROBE_FILE.
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.MEM_PROBE_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    appendFileSync(file, `${JSON.stringify({ ...process.memoryUsage(), spaces })}\n`);
  });
}
