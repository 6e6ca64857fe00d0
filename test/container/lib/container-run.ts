// Runs the image with given settings in its own network namespace (no interface but lo), puts a recording upstream
// into that namespace, and calls the proxy there with curl: every byte stays inside the container's loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerPid, podman, podmanOk, removeContainer, RUN_LIMITS, type Result } from './podman.js';

let counter = 0;
export function containerName(label: string): string {
  counter += 1;
  return `mtls-test-${label}-${process.pid}-${counter}`;
}

/** `podman run` arguments for the image with settings; `network` defaults to none (loopback only). */
export function runArgs(
  image: string,
  flags: string[],
  args: string[],
  options: { name?: string; detach?: boolean; network?: boolean } = {},
): string[] {
  return [
    'run',
    ...(options.detach === true ? ['--detach'] : ['--rm']),
    ...(options.name !== undefined ? ['--name', options.name] : []),
    ...RUN_LIMITS,
    ...(options.network === false ? [] : ['--network', 'none']),
    ...flags,
    image,
    ...args,
  ];
}

/** Runs a one-shot container to completion (90 s at most); it is removed afterwards even if it had to be killed. */
export async function runOnce(image: string, flags: string[], args: string[], network = true): Promise<Result> {
  const name = containerName('once');
  try {
    return await podman(runArgs(image, flags, args, { network, name }), { timeoutMs: 90_000 });
  } finally {
    await removeContainer(name);
  }
}

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

const UPSTREAM_SCRIPT = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  process.stdout.write(JSON.stringify({ path: req.url, headers: req.headers }) + '\\n');
  req.resume();
  req.on('end', () => res.end('{"ok":true}'));
});
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.stderr.write('listening\\n'));
`;

export interface RunningProxy {
  name: string;
  pid: number;
  received: Received[];
  /** curl in the container's network namespace; returns curl's exit status, HTTP code and stderr. */
  curl(args: string[]): { status: number | null; code: string; stderr: string };
  /** `podman exec` as the container's user, with its capabilities, seccomp filter and no-new-privs. */
  exec(args: string[]): Promise<Result>;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

function inNetns(pid: number, command: string[]): string[] {
  return ['-t', String(pid), '-n', ...command];
}

async function startUpstream(pid: number, port: number, received: Received[]): Promise<ChildProcess> {
  const child = spawn('nsenter', inNetns(pid, [process.execPath, '-e', UPSTREAM_SCRIPT, String(port)]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      received.push(JSON.parse(buffer.slice(0, nl)) as Received);
      buffer = buffer.slice(nl + 1);
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => d.includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`upstream exited (${code}) before listening`)));
  });
  return child;
}

/**
 * Starts the proxy detached with `--network none`, an upstream on 127.0.0.1:upstreamPort inside its namespace, and
 * waits (bounded) until a TLS handshake on 127.0.0.1:8443 there gets an answer.
 */
export async function startProxy(
  image: string,
  label: string,
  flags: string[],
  args: string[],
  upstreamPort: number,
): Promise<RunningProxy> {
  const name = containerName(label);
  await podmanOk(runArgs(image, flags, args, { name, detach: true }));
  const received: Received[] = [];
  let upstream: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    upstream?.kill('SIGKILL');
    await removeContainer(name);
  };
  try {
    const pid = await containerPid(name);
    upstream = await startUpstream(pid, upstreamPort, received);
    const curl = (curlArgs: string[]): { status: number | null; code: string; stderr: string } => {
      const r = spawnSync(
        'nsenter',
        inNetns(pid, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', ...curlArgs]),
        { encoding: 'utf8', timeout: 30_000 },
      );
      return { status: r.status, code: r.stdout.trim(), stderr: r.stderr };
    };
    const proxy: RunningProxy = {
      name,
      pid,
      received,
      curl,
      stop,
      exec: (execArgs) => podman(['exec', name, ...execArgs], { timeoutMs: 60_000 }),
      logs: async () => {
        const r = await podman(['logs', name]);
        return r.stdout + r.stderr;
      },
    };
    await waitForListener(proxy);
    return proxy;
  } catch (error) {
    const logs = (await podman(['logs', name])).stderr;
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\ncontainer log:\n${logs.slice(-3000)}`);
  }
}

/** Polls with a bare TLS handshake (curl -k, no client certificate) until the listener answers; 90 s at most. */
async function waitForListener(proxy: RunningProxy): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const r = proxy.curl(['-k', '--max-time', '5', 'https://127.0.0.1:8443/']);
    // 7: connection refused (not listening yet); anything else means the listener answered (it refuses us at TLS).
    if (r.status !== 7) return;
    const state = await podman(['inspect', '--format', '{{.State.Running}}', proxy.name]);
    if (state.stdout.trim() !== 'true') throw new Error(`container ${proxy.name} stopped before listening`);
    await sleep(250);
  }
  throw new Error(`container ${proxy.name} did not listen on 127.0.0.1:8443 within 90 s`);
}

/** Fields of /proc/PID/status read from the host, outside the container. */
export function hostViewOfStatus(pid: number): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** The mount options of the container's `/`, from the host's view of its mountinfo. */
export function hostViewOfRootMount(pid: number): string[] {
  const line = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/');
  return (line?.split(' ')[5] ?? '').split(',');
}

/** A JavaScript snippet run by the image's own node inside the container: what the process itself sees. */
export const INSIDE_SCRIPT = `
const fs = require('node:fs');
const status = Object.fromEntries(fs.readFileSync('/proc/1/status', 'utf8').split('\\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
let rootWrite;
try { fs.writeFileSync('/app/written-by-test', 'x'); rootWrite = 'written'; } catch (e) { rootWrite = e.code; }
let keyRead;
try { keyRead = fs.readFileSync(process.argv[1]).length > 0 ? 'read' : 'empty'; } catch (e) { keyRead = e.code; }
process.stdout.write(JSON.stringify({ status, rootWrite, keyRead, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() }));
`;
