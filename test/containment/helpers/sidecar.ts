// Runs the built CLI (dist/main.js) as a child process under setpriv or unshare, with an openssl PKI readable by an
// unprivileged uid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../../helpers/pki.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = resolve(REPO_ROOT, 'dist/main.js');
export const UNPRIVILEGED_UID = 10001;

/** setpriv arguments for the recommended posture: uid/gid 10001, no capabilities at all, no-new-privs. */
export const SETPRIV_DROP_ALL = [
  '--reuid=10001',
  '--regid=10001',
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
];
/** Like SETPRIV_DROP_ALL but CAP_NET_ADMIN stays in the bounding set and is raised into the effective set (ambient). */
export const SETPRIV_NET_ADMIN = [
  '--reuid=10001',
  '--regid=10001',
  '--clear-groups',
  '--inh-caps=+net_admin',
  '--ambient-caps=+net_admin',
  '--bounding-set=-all,+net_admin',
];

/** A skip reason when the CLI is not built or the test cannot change uid and capabilities, else false. */
export function containmentSkipReason(): string | false {
  if (!existsSync(CLI)) return 'dist/main.js is not built (npx tsc -p tsconfig.build.json)';
  if (process.geteuid?.() !== 0) return 'needs root to switch uid and capabilities with setpriv';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is not installed';
  return false;
}

/**
 * True when uid 10001 can read the built CLI and its dependencies where they are (the repository is world-readable).
 */
export function repoReadableByUnprivileged(): boolean {
  const probe = spawnSync(
    'setpriv',
    [
      ...SETPRIV_DROP_ALL,
      process.execPath,
      '-e',
      `import(${JSON.stringify(resolve(REPO_ROOT, 'node_modules/pino/pino.js'))}).then(() => require('fs').accessSync(${JSON.stringify(CLI)}, 4))`,
    ],
    {
      timeout: 20_000,
    },
  );
  return probe.status === 0;
}

export interface World {
  dir: string;
  ca: CertFiles;
  server: CertFiles;
  client: CertFiles;
  /** `run` arguments for this material (listen on an OS-chosen port, metrics off) and the given upstream. */
  runArgs(upstream: string): string[];
  cleanup(): void;
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate; keys 0600 owned by `owner`. */
export function makeWorld(owner = 0): World {
  const dir = makeTmpDir('mtls-containment-');
  chmodSync(dir, 0o755);
  const ca = makeCa(dir, 'Containment Test CA', { subject: '/O=Acme/CN=Containment Test CA' });
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const client = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme/OU=payments/CN=orders',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders'],
  });
  for (const files of [ca, server, client]) {
    chmodSync(files.cert, 0o644);
    chownSync(files.key, owner, owner);
    chmodSync(files.key, 0o600);
  }
  const runArgs = (upstream: string): string[] => [
    'run',
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    'off',
    '--upstream',
    upstream,
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/sa/orders',
    '--shutdown-grace',
    '2s',
  ];
  return { dir, ca, server, client, runArgs, cleanup: () => removeDir(dir) };
}

export interface Upstream {
  url: string;
  received: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A plain-HTTP upstream on 127.0.0.1 that records the headers it receives. */
export async function startUpstream(): Promise<Upstream> {
  const received: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    req.on('end', () => res.end('upstream ok'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((ok) => server.close(() => ok())) };
}

export interface Child {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the child is gone. */
  exited: Promise<number | string>;
}

/** Spawns `command args…` with only PATH in the environment, so no MTLS_SIDECAR_* of the runner leaks in. */
export function spawnChild(command: string, args: string[], cwd: string): Child {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | string>((ok) =>
    child.once('exit', (code, signal) => ok(code ?? signal ?? 'unknown')),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Waits for the proxy's "listening" log line and returns its port; throws if the child exits first or after timeoutMs.
 */
export async function waitForListening(c: Child, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void c.exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    for (const line of c.stdout().split('\n')) {
      if (!line.includes('mtls-sidecar listening')) continue;
      const listen = (JSON.parse(line) as { listen?: string }).listen ?? '';
      const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
      if (port > 0) return port;
    }
    if (gone) throw new Error(`exited before listening\nstdout:\n${c.stdout()}\nstderr:\n${c.stderr()}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`not listening after ${timeoutMs} ms\nstdout:\n${c.stdout()}\nstderr:\n${c.stderr()}`);
}

/** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
export async function stopChild(c: Child, graceMs = 5000): Promise<number | string> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  const code = await c.exited;
  clearTimeout(timer);
  return code;
}

/** Resolves with the exit code, or throws (after killing it) when the child runs longer than timeoutMs. */
export async function waitForExit(c: Child, timeoutMs = 20_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      c.child.kill('SIGKILL');
      fail(new Error(`still running after ${timeoutMs} ms\nstdout:\n${c.stdout()}\nstderr:\n${c.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([c.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One GET over mutual TLS to 127.0.0.1:port with the world's client certificate. */
export function requestWithClientCert(
  world: World,
  port: number,
  path = '/',
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ca: world.ca.certPem,
        cert: world.client.certPem,
        key: world.client.keyPem,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', fail);
    req.end();
  });
}
