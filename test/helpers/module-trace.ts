// Traces every module a child Node process resolves, through a hook registered with --import: the oracle for tests
// that check what a command loads.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const HOOK = `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    appendFileSync(process.env.MODULE_TRACE, resolved.url + '\\n');
    return resolved;
  },
});
`;

export interface ModuleTrace {
  /** The `--import=URL` flag that registers the hook. */
  importFlag: string;
  /** A fresh trace file for one traced process: set it as MODULE_TRACE in that process's environment. */
  newTrace(name: string): string;
  /** Every module URL (or `node:` builtin) resolved in the process that wrote `trace`. */
  modules(trace: string): string[];
}

/** Writes the hook into `dir`; trace files go there too. */
export function createModuleTrace(dir: string): ModuleTrace {
  const hook = join(dir, 'trace-hook.mjs');
  writeFileSync(hook, HOOK);
  return {
    importFlag: `--import=${pathToFileURL(hook).href}`,
    newTrace(name) {
      const trace = join(dir, `${name}.trace`);
      writeFileSync(trace, '');
      return trace;
    },
    modules: (trace) => readFileSync(trace, 'utf8').split('\n').filter(Boolean),
  };
}
