// Test-only preload (`node --expose-gc --import this-file`): SIGUSR2 runs a full GC and prints `gc-done N`, so a test reads RSS after it.
let count = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  count += 1;
  process.stderr.write(`gc-done ${count}\n`);
});
