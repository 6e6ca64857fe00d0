// `dev` speaks human, once: one short posture paragraph (no JSON posture lines, no claim that a flag was passed), the
// curl command in one uninterrupted block; its default metrics port falls back to a free one when busy (logged and
// printed), while a --metrics-listen the user chose is refused when busy, as `run` does.
import { spawn } from 'node:child_process';
import net from 'node:net';
import t from 'tap';
import { makeTmpDir, removeDir } from '../helpers/pki.js';
import { CLI_MAIN, opsGet, waitFor } from '../ops/lib/cli-process.js';

interface DevRun {
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  kill(): void;
}

function startDev(args: string[], cwd: string): DevRun {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  const child = spawn(process.execPath, [CLI_MAIN, 'dev', '--listen', '127.0.0.1:0', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { stdout: () => out, stderr: () => err, exited, kill: () => child.kill('SIGTERM') };
}

/** Holds a port on 127.0.0.1 (the dev default when it is free, else whatever holds it is busy already). */
async function occupy(port: number): Promise<net.Server | null> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const isRoot = process.getuid?.() === 0;

t.test('posture in one paragraph, curl block intact, busy default metrics port replaced', async (t) => {
  const cwd = makeTmpDir('dev-human-');
  const blocker = await occupy(8444);
  t.teardown(() => {
    blocker?.close();
    removeDir(cwd);
  });
  const dev = startDev([], cwd);
  t.teardown(() => dev.kill());
  t.ok(
    await waitFor(() => /\n {2}curl .*\n\n/.test(dev.stdout()) || dev.stderr() !== '', 60_000, 100),
    'printed the curl block',
  );
  const out = dev.stdout();
  t.equal(dev.stderr(), '');

  const jsonLines = out.split('\n').filter((l) => l.startsWith('{'));
  t.notOk(
    jsonLines.some((l) => /posture/.test(l)),
    'no JSON posture line',
  );
  t.notMatch(out, /--allow-insecure-posture is set/, 'does not claim a flag the user never passed');
  const block = /\ntry it:\n\n {2}(curl [^\n]+)\n\n/.exec(out);
  t.ok(block, 'the curl command stands alone in its block');
  if (isRoot) {
    t.equal(out.match(/^posture: /gm)?.length, 1, 'one posture paragraph');
    t.match(out, /^posture: running-as-root \(critical\)/m);
    t.match(out, /`mtls-sidecar run` refuses to start like this/);
  } else {
    t.notMatch(out, /running-as-root/);
  }
  t.ok(
    out.indexOf('posture:') === -1 || out.indexOf('posture:') < out.indexOf('try it:'),
    'posture before the curl block, never after',
  );

  const m = /metrics and probes on http:\/\/localhost:(\d+)\/metrics \(port 8444 was in use\)/.exec(out);
  t.ok(m, 'says the default port was busy and which one it took');
  const port = Number(m?.[1]);
  t.not(port, 8444);
  const metrics = await opsGet(port, '/metrics');
  t.equal(metrics.status, 200, 'the port it printed serves /metrics');
  t.match(out, /"msg":"metrics port in use: took a free one"/, 'and logged');
  dev.kill();
  t.equal(await dev.exited, 0);
});

t.test('a busy --metrics-listen the user chose is refused (exit 78)', async (t) => {
  const cwd = makeTmpDir('dev-busy-');
  const blocker = await occupy(0);
  t.teardown(() => {
    blocker?.close();
    removeDir(cwd);
  });
  const port = (blocker?.address() as net.AddressInfo).port;
  const dev = startDev(['--metrics-listen', `127.0.0.1:${port}`], cwd);
  t.equal(await dev.exited, 78);
  t.match(dev.stderr(), new RegExp(`--metrics-listen 127\\.0\\.0\\.1:${port}: cannot listen \\(EADDRINUSE\\)`));
});

t.test(
  '--no-allow-insecure-posture enforces as run does',
  { skip: isRoot ? false : 'needs a critical finding (root)' },
  async (t) => {
    const cwd = makeTmpDir('dev-enforce-');
    t.teardown(() => removeDir(cwd));
    const dev = startDev(['--metrics-listen', 'off', '--no-allow-insecure-posture'], cwd);
    t.equal(await dev.exited, 78);
    t.match(dev.stderr(), /posture running-as-root: [\s\S]*refuses to start/);
  },
);
