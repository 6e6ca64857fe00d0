// Test-only preload for the proxy under test (`node --expose-gc --import <this> dist/main.js ...`): SIGUSR2 runs V8's
// most thorough collection (what it does under memory pressure) and prints a numbered marker that processes.mjs waits
// for, so a test can read RSS without garbage in it. Production builds never load this file.
let count = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  count += 1;
  process.stderr.write(`mtls-test-gc-done ${count}\n`);
});
