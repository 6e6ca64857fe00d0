// The only file that reaches into undici's private modules; undici is pinned to an exact version for them, and
// test/upstream/undici-internals.test.ts fails loudly when they move or change shape.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

/** Loads one private undici module, or stops the start with a message naming it and the version checked. */
function loadInternal<T>(path: string): T {
  try {
    return require(path) as T;
  } catch (err) {
    const installed = (require('undici/package.json') as { version: string }).version;
    throw new Error(
      `undici ${installed} has no ${path} (checked against undici ${UNDICI_VERSION_CHECKED}): ${(err as Error).message}`,
    );
  }
}

/** The version these internals were checked against (package.json pins undici to it exactly). */
export const UNDICI_VERSION_CHECKED = '7.30.2';

/** Private module paths used here, for the shape test's messages. */
export const UNDICI_INTERNALS = {
  pool: 'undici/lib/dispatcher/pool.js',
  util: 'undici/lib/core/util.js',
} as const;

/**
 * undici's index also loads fetch, WebSocket, caches and mocks: about 8 MB of RSS in every pod for code never run.
 * The pool is all the forwarding uses; this is the module undici's own index exports as `Pool`.
 */
export const Pool = loadInternal<typeof UndiciPool>(UNDICI_INTERNALS.pool);

type LowerCasedName = (name: Buffer) => string;

/**
 * undici's own reader for header names (loaded with its pool anyway): well-known names come from a lookup tree as
 * interned lower-case strings, without decoding the bytes. Should it be missing, names are decoded and lower-cased.
 */
const util = loadInternal<{ bufferToLowerCasedHeaderName?: LowerCasedName }>(UNDICI_INTERNALS.util);
export const lowerCasedHeaderName: LowerCasedName =
  util.bufferToLowerCasedHeaderName ?? ((name) => name.toString('latin1').toLowerCase());

/** Whether undici's helper was found (the fallback is correct, only slower): for the shape test. */
export const usesUndiciHeaderNames = util.bufferToLowerCasedHeaderName !== undefined;
