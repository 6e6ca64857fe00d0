// undici's private modules (a smaller pool than its index, its header-name reader) are used behind one adapter,
// checked against one exact undici version: this fails loudly, naming the internal and the version, when an upgrade
// moves them or changes their shape.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';

const require = createRequire(import.meta.url);
const installed = (require('undici/package.json') as { version: string }).version;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};
const internals = await import('../../src/upstream/undici-internals.js');
const where = `src/upstream/undici-internals.ts (checked against undici ${internals.UNDICI_VERSION_CHECKED}, installed ${installed})`;

t.test('undici is pinned to the version the internals were checked against', async (t) => {
  t.equal(
    pkg.dependencies.undici,
    internals.UNDICI_VERSION_CHECKED,
    `package.json must pin undici exactly to ${internals.UNDICI_VERSION_CHECKED}; to upgrade, re-check ${where} and update UNDICI_VERSION_CHECKED`,
  );
  t.equal(
    installed,
    internals.UNDICI_VERSION_CHECKED,
    `installed undici ${installed} is not the version ${where} was checked against`,
  );
});

t.test(`${internals.UNDICI_INTERNALS.pool} is undici's own Pool`, async (t) => {
  const publicPool = (require('undici') as { Pool: unknown }).Pool;
  t.equal(
    internals.Pool,
    publicPool,
    `${internals.UNDICI_INTERNALS.pool} no longer is the Pool undici exports: ${where}`,
  );
  for (const method of ['dispatch', 'destroy', 'close']) {
    t.equal(
      typeof (internals.Pool.prototype as unknown as Record<string, unknown>)[method],
      'function',
      `${internals.UNDICI_INTERNALS.pool}: Pool.prototype.${method} is gone: ${where}`,
    );
  }
});

t.test(`${internals.UNDICI_INTERNALS.util} bufferToLowerCasedHeaderName reads header names`, async (t) => {
  t.ok(
    internals.usesUndiciHeaderNames,
    `${internals.UNDICI_INTERNALS.util} no longer exports bufferToLowerCasedHeaderName (the slower fallback is in use): ${where}`,
  );
  // Expectations written out, not computed by the function under test: well-known names, unknown ones, odd spellings.
  const cases: Array<[string, string]> = [
    ['Content-Type', 'content-type'],
    ['SET-COOKIE', 'set-cookie'],
    ['connection', 'connection'],
    ['Keep-Alive', 'keep-alive'],
    ['X-Custom-Header-Nobody-Knows', 'x-custom-header-nobody-knows'],
    ['X-Latin1-\u00c9', 'x-latin1-\u00e9'],
  ];
  for (const [raw, lower] of cases) {
    t.equal(
      internals.lowerCasedHeaderName(Buffer.from(raw, 'latin1')),
      lower,
      `${internals.UNDICI_INTERNALS.util}: ${raw} read as ${lower}: ${where}`,
    );
  }
});
