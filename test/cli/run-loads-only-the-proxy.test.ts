// A single-process `run` keeps in memory only what serving needs: no cluster or --workers code, no certificate tools
// (node-forge, pkijs), no check/inspect reports, not undici's index. The oracle is Node's own module resolution,
// traced by a hook the test registers through NODE_OPTIONS.
import { spawn } from 'node:child_process';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { createModuleTrace } from '../helpers/module-trace.js';
import { waitFor } from '../helpers/wait-for.js';
import { CLI_MAIN, cliMissing, proxyArgs, startCli } from '../ops/lib/cli-process.js';

/** What `run` in one process must not load: each pattern with what it stands for. */
const NOT_FOR_SERVING: [RegExp, string][] = [
  [/^node:cluster$/, 'node:cluster'],
  [/\/dist\/lifecycle\/(workers|worker-[a-z-]+)\.js$/, 'the --workers primary and worker code'],
  [/\/node_modules\/(node-forge|pkijs|asn1js)\//, 'certificate tools (node-forge, pkijs, asn1js)'],
  [/\/dist\/(devcerts|dev)\//, 'dev certificates and the dev echo upstream'],
  [/\/dist\/cli\/(check|inspect|inspect-verdict|report-format|certs-[a-z-]+|dev)\.js$/, 'the other commands'],
  [/\/node_modules\/undici\/index\.js$/, "undici's index (fetch, WebSocket, caches, mocks)"],
];

t.test('run, in one process, loads only what serving needs', { skip: cliMissing() }, async (t) => {
  const dir = makeTmpDir('mtls-run-graph-');
  t.teardown(() => removeDir(dir));
  const moduleTrace = createModuleTrace(dir);
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
  const pki = { server, ca };
  const traceEnv = (name: string): { NODE_OPTIONS: string; MODULE_TRACE: string } => {
    return { NODE_OPTIONS: moduleTrace.importFlag, MODULE_TRACE: moduleTrace.newTrace(name) };
  };
  const traced = (env: { MODULE_TRACE: string }): string[] => moduleTrace.modules(env.MODULE_TRACE);

  t.test('the trace sees cluster and the workers code with --workers 2 (the oracle can fail)', async (t) => {
    const env = traceEnv('workers');
    const args = ['run', '--listen', '127.0.0.1:0', '--metrics-listen', 'off', '--allow-insecure-posture'];
    const flags = [...proxyArgs(pki, 'http://127.0.0.1:9'), '--allow-cn', 'orders', '--workers', '2'];
    const child = spawn(process.execPath, [CLI_MAIN, ...args, ...flags], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    const loaded = (): boolean => traced(env).some((m) => m.endsWith('/dist/lifecycle/workers.js'));
    await waitFor(() => loaded() || child.exitCode !== null, { timeoutMs: 30_000, what: 'the workers primary' });
    t.ok(loaded(), `the workers primary is traced (${stderr.slice(0, 300)})`);
    t.ok(traced(env).includes('node:cluster'), 'node:cluster is traced');
  });

  t.test('run', async (t) => {
    const env = traceEnv('run');
    const cli = await startCli([...proxyArgs(pki, 'http://127.0.0.1:9'), '--allow-cn', 'orders'], { env });
    t.teardown(() => cli.stop());
    const modules = traced(env);
    t.ok(
      modules.some((m) => m.endsWith('/dist/lifecycle/start-proxy.js')),
      'the proxy was started from the traced process',
    );
    t.ok(
      modules.some((m) => /\/node_modules\/fastify\//.test(m)),
      'and its server packages are traced',
    );
    for (const [pattern, what] of NOT_FOR_SERVING)
      t.same(
        modules.filter((m) => pattern.test(m)),
        [],
        `no ${what}`,
      );
  });
});
