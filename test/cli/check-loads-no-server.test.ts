// `check` and `inspect` read material and policy with the loaders `run` uses, without loading the server: no fastify
// and no undici in their process. The oracle is Node's own module resolution, traced by a hook the test registers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { CLI } from '../config/fixtures.js';
import { createModuleTrace } from '../helpers/module-trace.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

const SERVER_PACKAGES = /\/node_modules\/(fastify|undici)\//;

t.test(
  'check and inspect load no server code',
  { skip: existsSync(CLI) ? false : 'dist/main.js is not built' },
  async (t) => {
    const dir = makeTmpDir('mtls-check-graph-');
    t.teardown(() => removeDir(dir));
    const moduleTrace = createModuleTrace(dir);
    const ca = makeCa(dir, 'ca');
    const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
    const client = makeLeaf(dir, 'client', ca, { subject: '/CN=orders' });
    const flags = [
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--client-ca',
      ca.cert,
      '--allow-cn',
      'orders',
      '--allow-insecure-posture',
    ];

    /** Runs node with the tracing hook; returns the exit status and every module URL resolved in the process. */
    const traced = (name: string, args: string[]): { status: number | null; stderr: string; modules: string[] } => {
      const trace = moduleTrace.newTrace(name);
      const result = spawnSync(process.execPath, [moduleTrace.importFlag, ...args], {
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MODULE_TRACE: trace },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return {
        status: result.status,
        stderr: result.stderr,
        modules: moduleTrace.modules(trace),
      };
    };

    t.test('the trace sees the server packages when the proxy is loaded (the oracle can fail)', async (t) => {
      const startProxy = pathToFileURL(join(CLI, '..', 'lifecycle', 'start-proxy.js')).href;
      const { status, modules } = traced('control', [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(startProxy)});`,
      ]);
      t.equal(status, 0);
      t.ok(
        modules.some((m) => /\/node_modules\/fastify\//.test(m)),
        'fastify is traced',
      );
      t.ok(
        modules.some((m) => /\/node_modules\/undici\//.test(m)),
        'undici is traced',
      );
    });

    t.test('check', async (t) => {
      const { status, stderr, modules } = traced('check', [CLI, 'check', '--json', ...flags]);
      t.equal(status, 0, stderr);
      t.ok(
        modules.some((m) => m.endsWith('/dist/cli/check.js')),
        'the check command was traced',
      );
      t.ok(
        modules.some((m) => m.endsWith('/dist/state/load-state.js')),
        'material and policy come from the state loader',
      );
      t.same(
        modules.filter((m) => SERVER_PACKAGES.test(m)),
        [],
        'no fastify or undici module was loaded',
      );
    });

    t.test('inspect', async (t) => {
      const { status, stderr, modules } = traced('inspect', [CLI, 'inspect', client.cert, '--json', ...flags]);
      t.equal(status, 0, stderr);
      t.ok(
        modules.some((m) => m.endsWith('/dist/cli/inspect.js')),
        'the inspect command was traced',
      );
      t.same(
        modules.filter((m) => SERVER_PACKAGES.test(m)),
        [],
        'no fastify or undici module was loaded',
      );
    });
  },
);
