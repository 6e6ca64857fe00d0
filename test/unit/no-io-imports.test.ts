// The unit layer stays pure: no file under test/unit, nor a test helper it imports, may import a networking or
// process module (except the pure named exports below), and none may wait on a timer. `npm run test:unit` also
// refuses sockets and processes at run time (test/helpers/no-io-preload.mjs); this check covers `npm test` too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const TEST_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const UNIT_ROOT = join(TEST_ROOT, 'unit');
const IO_MODULES =
  /^(node:)?(net|tls|http|https|http2|child_process|cluster|dgram|worker_threads)$|^(undici|fastify|ws|@grpc\/grpc-js)(\/|$)/;
/** Named exports of those modules that touch no socket or process: validators and constant tables. */
const PURE_NAMES = new Set([
  'isIP',
  'isIPv4',
  'isIPv6',
  'BlockList',
  'METHODS',
  'STATUS_CODES',
  'validateHeaderName',
  'validateHeaderValue',
]);
const TIMER = /(?<![.\w])(setTimeout|setInterval|setImmediate)\s*\(|['"](node:)?timers(\/promises)?['"]/;
const IMPORT =
  /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mts|mjs|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Why one import of `spec` is not allowed in the unit layer, or null when it is. */
function ioImport(spec: string, typeOnly: boolean, clause: string): string | null {
  if (!IO_MODULES.test(spec) || typeOnly) return null;
  const named = /^\{([^}]*)\}$/.exec(clause.trim());
  const names =
    named?.[1]
      ?.split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !n.startsWith('type ')) ?? null;
  if (names !== null && names.every((n) => PURE_NAMES.has(n.split(/\s+as\s+/)[0] ?? n))) return null;
  return `imports ${spec}${names ? ` { ${names.join(', ')} }` : ''}`;
}

/** Problems of one file, following its relative imports that stay inside test/ (src/ is the code under test). */
function problemsOf(file: string, seen: Set<string>): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const name = relative(TEST_ROOT, file);
  const problems = TIMER.test(text) ? [`${name}: waits on a timer`] : [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[4] ?? m[5] ?? m[6] ?? '';
    const bad = ioImport(spec, m[2] !== undefined, m[3] ?? '');
    if (bad) problems.push(`${name}: ${bad}`);
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const local = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')].find((p) => existsSync(p));
    if (local?.startsWith(TEST_ROOT + '/') && local !== file) problems.push(...problemsOf(local, seen));
  }
  return problems;
}

t.test('no unit test reaches a socket, a process or a timer through its imports', async (t) => {
  const files = sourceFiles(UNIT_ROOT).filter((f) => f !== fileURLToPath(import.meta.url));
  t.ok(files.length > 30, `the unit layer holds its tests (${files.length} files)`);
  const seen = new Set<string>();
  t.same(
    files.flatMap((f) => problemsOf(f, seen)),
    [],
  );
});

t.test('the check itself notices each kind of import', async (t) => {
  t.equal(ioImport('node:net', false, 'net'), 'imports node:net');
  t.equal(ioImport('node:child_process', false, '{ spawnSync }'), 'imports node:child_process { spawnSync }');
  t.equal(ioImport('undici', false, '{ request }'), 'imports undici { request }');
  t.equal(
    ioImport('node:http', false, '{ validateHeaderName, createServer }'),
    'imports node:http { validateHeaderName, createServer }',
  );
  t.equal(ioImport('node:http', false, '{ validateHeaderName, validateHeaderValue }'), null);
  t.equal(ioImport('node:net', true, '{ Socket }'), null, 'a type-only import opens nothing');
  t.equal(ioImport('node:fs', false, '{ readFileSync }'), null);
  t.ok(TIMER.test('await new Promise((r) => setTimeout(r, 10));'));
  t.ok(TIMER.test("import { setTimeout as sleep } from 'node:timers/promises';"));
  t.notOk(TIMER.test('t.setTimeout(1000);'), "tap's own test timeout is not a wait");
});
