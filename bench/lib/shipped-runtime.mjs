// What the image runs Node with, read from the Dockerfile so the image stays the one source of truth: the Node flags of
// the final stage's ENTRYPOINT (between the node binary and the script) and the allocator and libuv settings of its
// ENV.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'Dockerfile');

/** ENV names that change how Node or glibc use memory and threads; NODE_ENV and the like are left out. */
const RUNTIME_ENV = /^(MALLOC_[A-Z_]+|GLIBC_TUNABLES|UV_THREADPOOL_SIZE)$/;

/** The final stage's instructions, continuation lines joined. */
function finalStage(text) {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n');
  const from = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  return lines.slice(from).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

export function readShippedRuntime(text = readFileSync(DOCKERFILE, 'utf8')) {
  const stage = finalStage(text);
  const entry = stage.find((l) => /^ENTRYPOINT\s/i.test(l));
  if (!entry) throw new Error('Dockerfile: no ENTRYPOINT in the final stage');
  const argv = JSON.parse(entry.replace(/^ENTRYPOINT\s+/i, ''));
  const env = {};
  for (const line of stage.filter((l) => /^ENV\s/i.test(l))) {
    for (const [, name, value] of line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      if (RUNTIME_ENV.test(name)) env[name] = value.replace(/^"|"$/g, '');
    }
  }
  return { flags: argv.slice(1, -1), env };
}
