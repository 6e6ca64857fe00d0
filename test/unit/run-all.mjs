// `npm run test:unit`: every test/unit file in one Node process (a process per file, as `npm test` runs them, costs
// more in start-up than these tests take), with sockets and child processes refused (test/helpers/no-io-preload.mjs).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
for (const file of files) await import(pathToFileURL(join(root, file)).href);
