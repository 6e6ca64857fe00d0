// Loaded by tap with `node --import` (package.json "tap" config): the tests run on Node's own TypeScript support
// instead of a compiler, and our sources import each other as `./x.js` (what tsc emits), so a `.js` import that
// finds no file resolves to the `.ts` file beside it. The specifier is tried as written first, so t.mockImport's
// hook sees the name the test mocked.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const [path = '', rest = ''] = specifier.split(/(?=[?#])/, 2);
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !path.endsWith('.js') || !/^(\.{1,2}\/|\/|file:)/.test(path))
        throw err;
      const found = nextResolve(`${path.slice(0, -3)}.ts${rest}`, context);
      // Under a mocked import, t.mockImport gives each module it can resolve a private copy; one it cannot (a `.js`
      // name for a `.ts` file) stays shared with the test, so `instanceof` holds across the boundary. Keep that for
      // the modules it reaches, not for the mocked entry point itself (whose own specifier carries the marker).
      const url = new URL(found.url);
      if (!url.searchParams.has('tapmock') || rest.includes('tapmock=')) return found;
      url.searchParams.delete('tapmock');
      return { ...found, url: url.href };
    }
  },
});
