// Real child processes for reliability tests: the built CLI as the proxy, the token upstream, and /proc readings of
// both.
import { fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..', '..');

/** The built CLI; MTLS_RELIABILITY_BIN points elsewhere (e.g. a private build while others edit src/). */
export function cliPath() {
  const bin = process.env.MTLS_RELIABILITY_BIN ?? join(REPO_ROOT, 'dist', 'main.js');
  if (!existsSync(bin)) throw new Error(`${bin} not found: run \`npm run build\` first (npm test does)`);
  return bin;
}

/** Node flags that let a test trigger a full garbage collection in the proxy (`collectGarbage()`); test-only. */
export const GC_ON_SIGNAL_ARGS = ['--expose-gc', '--import', pathToFileURL(join(here, 'gc-on-signal.mjs')).href];
const GC_MARKER = 'mtls-test-gc-done';

/** A port the kernel just handed out and released; the tiny reuse race is acceptable on loopback. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** RSS (KiB), open file descriptors and threads of a live process, read from /proc. */
export function processStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), fds: readdirSync(`/proc/${pid}/fd`).length, threads: field('Threads') };
}

/**
 * RSS (MiB) of a proxy started with GC_ON_SIGNAL_ARGS after two forced full collections (the second lets V8 return
 * what the first freed); throws when the proxy does not report a collection.
 */
export async function rssMbAfterGc(proxy) {
  for (let i = 0; i < 2; i += 1) {
    if (!(await proxy.collectGarbage(30_000))) throw new Error('the proxy did not report its forced GC');
  }
  return processStats(proxy.pid).rssKb / 1024;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tcpAccepts(port) {
  return new Promise((res) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** Waits until `probe()` is true, polling; false when `timeoutMs` passes first. */
export async function waitFor(probe, timeoutMs, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

/**
 * Starts `node [nodeArgs] <cli> run --listen 127.0.0.1:<free port> ...args` and resolves once the port accepts TCP.
 * The returned `exited` promise resolves with `{ code, signal }`; `output()` is the captured stdout+stderr tail.
 */
export async function startProxyProcess({ args, env = {}, readyTimeoutMs = 15_000, port, nodeArgs = [] } = {}) {
  const listenPort = port ?? (await freePort());
  // MTLS_RELIABILITY_NODE runs the proxy on another Node binary (e.g. to compare majors); the tests' own Node by
  // default.
  const child = spawn(
    process.env.MTLS_RELIABILITY_NODE ?? process.execPath,
    [...nodeArgs, cliPath(), 'run', '--listen', `127.0.0.1:${listenPort}`, ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const keep = (c) => {
    out += c.toString('utf8');
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitInfo;
  const exited = new Promise((res) =>
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      res(exitInfo);
    }),
  );
  const ready = await waitFor(async () => exitInfo !== undefined || (await tcpAccepts(listenPort)), readyTimeoutMs);
  if (!ready || exitInfo !== undefined) {
    child.kill('SIGKILL');
    throw new Error(`proxy did not start (exit ${JSON.stringify(exitInfo)}):\n${out.slice(-4000)}`);
  }
  return {
    pid: child.pid,
    port: listenPort,
    child,
    exited,
    output: () => out,
    /** JSON log lines printed so far. */
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        }),
    alive: () => exitInfo === undefined,
    /** Full GC in the proxy (started with GC_ON_SIGNAL_ARGS); resolves once it reports done, false on timeout. */
    async collectGarbage(timeoutMs = 10_000) {
      const before = out.split(GC_MARKER).length;
      child.kill('SIGUSR2');
      return waitFor(() => out.split(GC_MARKER).length > before, timeoutMs, 20);
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

/** Forks the token upstream (see token-upstream.mjs) on `port` (0: any) and resolves once it listens. */
export async function startTokenUpstream({ port = 0, capacity = 1 << 21 } = {}) {
  const child = fork(join(here, 'token-upstream.mjs'), [String(port), String(capacity)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const first = await new Promise((res, rej) => {
    child.once('message', res);
    child.once('exit', (code) => rej(new Error(`token upstream exited with ${code}`)));
  });
  if (first.type !== 'ready') throw new Error(`token upstream failed: ${JSON.stringify(first)}`);
  const ask = (msg) =>
    new Promise((res) => {
      const on = (reply) => {
        if (reply.type === msg.type) {
          child.off('message', on);
          res(reply);
        }
      };
      child.on('message', on);
      child.send(msg);
    });
  return {
    pid: child.pid,
    port: first.port,
    url: `http://127.0.0.1:${first.port}`,
    child,
    exited,
    summary: async () => (await ask({ type: 'summary' })).summary,
    ids: async (from, to) => (await ask({ type: 'ids', from, to })).ids,
    reset: async () => {
      await ask({ type: 'reset' });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** The usual proxy arguments for a PKI from pki.ts / the soak's own PKI. */
export function proxyArgs({ upstream, cert, key, clientCa, crl = [], extra = [], metricsListen = 'off' }) {
  return [
    '--upstream',
    upstream,
    '--cert',
    cert,
    '--key',
    key,
    '--client-ca',
    clientCa,
    ...crl.flatMap((c) => ['--crl', c]),
    '--metrics-listen',
    metricsListen,
    '--log-level',
    'warn',
    '--allow-insecure-posture',
    ...extra,
  ];
}
