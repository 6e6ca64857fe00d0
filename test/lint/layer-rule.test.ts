// The lint check fails on an import that runs up a layer and on an import cycle; every folder of src/ is in a layer.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import t from 'tap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYER_RULE = 'import-x/no-restricted-paths';

/** The layer-rule messages ESLint gives for `code` placed at `file` (a path under src/ that need not exist). */
async function layerErrors(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === LAYER_RULE).map((m) => m.message);
}

t.test('an import from a higher layer fails lint; one from the same or a lower layer passes', async (t) => {
  const eslint = new ESLint({ cwd: ROOT });
  const upward: Array<[string, string]> = [
    ['src/ops/probe.ts', "import { main } from '../cli/program.js';"],
    ['src/ops/probe.ts', "import type { Finding } from '../posture/types.js';"],
    ['src/identity/probe.ts', "import { acceptOrGenerateRequestId } from '../http/request-id.js';"],
    ['src/config/probe.ts', "import { compilePolicy } from '../authz/route-policy.js';"],
    ['src/posture/probe-x.ts', "import { generateDevMaterial } from '../devcerts/generate.js';"],
  ];
  for (const [file, code] of upward) {
    const errors = await layerErrors(eslint, file, `${code}\n`);
    t.equal(errors.length, 1, `${file}: ${code}`);
    t.match(errors[0] ?? '', /may import only from itself and the layers below it/);
  }
  const allowed: Array<[string, string]> = [
    [
      'src/ops/probe.ts',
      "import type { Config } from '../config/types.js';\nimport { ConfigError } from '../errors.js';",
    ],
    ['src/ops/probe.ts', "import { createMetrics } from './metrics.js';"],
    ['src/authz/probe.ts', "import { normalizePath } from '../http/normalize-path.js';"],
    ['src/cli/probe.ts', "import { generateDevMaterial } from '../devcerts/generate.js';"],
  ];
  for (const [file, code] of allowed) {
    t.same(await layerErrors(eslint, file, `${code}\n`), [], `${file}: ${code}`);
  }
});

t.test('every folder and top-level file of src/ belongs to a layer', async (t) => {
  const eslint = new ESLint({ cwd: ROOT });
  const config = await eslint.calculateConfigForFile(join(ROOT, 'src/cli/program.ts'));
  type LayerOptions = { zones: Array<{ target: string[]; from: string[] }> } | undefined;
  const zones = (config?.rules?.[LAYER_RULE]?.[1] as LayerOptions)?.zones ?? [];
  t.ok(zones.length > 5, 'the layer rule is configured for src/');
  const named = new Set(zones.flatMap((z) => [...z.target, ...z.from]));
  for (const entry of readdirSync(join(ROOT, 'src'))) {
    t.ok(named.has(`src/${entry}`), `src/${entry} is in eslint.config.js LAYERS`);
  }
});

t.test('README "Architecture" lists the layers in the order the lint rule enforces', async (t) => {
  const eslint = new ESLint({ cwd: ROOT });
  const config = await eslint.calculateConfigForFile(join(ROOT, 'src/cli/program.ts'));
  type LayerOptions = { zones: Array<{ target: string[]; from: string[] }> } | undefined;
  const zones = (config?.rules?.[LAYER_RULE]?.[1] as LayerOptions)?.zones ?? [];
  const enforced = [...zones.flatMap((z) => z.target), ...(zones.at(-1)?.from ?? [])].map((p) =>
    p.slice('src/'.length),
  );
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Architecture\n'), readme.indexOf('\n## Development\n'));
  const documented = [...section.matchAll(/^\| \d+ \| (.+?) \|/gm)].flatMap((row) =>
    [...(row[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/\/$/, '')),
  );
  t.ok(documented.length >= 18, 'the README table names the folders');
  t.same(
    enforced.filter((entry) => documented.includes(entry)),
    documented,
    'every documented folder is enforced, in the same order',
  );
});

t.test('the cycle check fails on an import cycle, type-only imports included, and passes without one', async (t) => {
  const depcruise = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
  const run = (dir: string) =>
    spawnSync(process.execPath, [depcruise, '--no-progress', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const cyclic = run('test/fixtures/lint/cycle');
  t.not(cyclic.status, 0, 'a cycle fails the check');
  t.match(cyclic.stdout, /no-circular/);
  t.match(cyclic.stdout, /shape\.ts/);
  t.match(cyclic.stdout, /area\.ts/);
  const acyclic = run('test/fixtures/lint/acyclic');
  t.equal(acyclic.status, 0, acyclic.stdout + acyclic.stderr);
});
