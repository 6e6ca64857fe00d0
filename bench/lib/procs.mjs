// Child processes for the benchmark: spawn pinned to a CPU, read CPU time and RSS of a process tree from /proc, kill
// everything at exit.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const children = new Set();

/** Fields after the `)` that closes comm, so a comm with spaces cannot shift them; index 0 is field 3 (state). */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The pid and all its live descendants (nginx and haproxy run workers under a master). */
export function processTree(rootPid) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f) parentOf.set(Number(name), Number(f[1]));
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree.filter((pid) => parentOf.has(pid));
}

/** user+system CPU seconds of a process tree (all threads), from utime+stime in /proc/PID/stat. */
export function treeCpuSeconds(rootPid) {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

function statusKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum over the tree of VmHWM (peak RSS) or VmRSS, in MB. Shared pages of forked workers are counted in each. */
export function treeMemoryMb(rootPid, field = 'VmHWM') {
  let kb = 0;
  for (const pid of processTree(rootPid)) kb += statusKb(pid, field);
  return kb / 1024;
}

/** Open file descriptors of a process tree (sockets included), from /proc/PID/fd. */
export function treeFdCount(rootPid) {
  let n = 0;
  for (const pid of processTree(rootPid)) {
    try {
      n += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      /* gone */
    }
  }
  return n;
}

/**
 * Starts a command in its own process group (so the whole group can be killed), pinned with taskset when
 * `cpu` is given. Output goes to `logFile` descriptors or is ignored.
 */
export function startProcess(command, args, { cpu, env, stdio = 'ignore', cwd } = {}) {
  const [file, argv] = cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
  const child = spawn(file, argv, { detached: true, stdio, env: { ...process.env, ...env }, cwd });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopProcess(child, signal = 'SIGTERM', waitMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, waitMs);
  await exited;
  clearTimeout(timer);
}

/**
 * A temporary directory for one bench run, removed on exit together with every process still running (also on SIGINT,
 * SIGTERM and the extra signals given); `onExit` runs first, for whatever else the run set up.
 */
export function scratchDir(prefix, { onExit = () => {}, signals = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => {
    killAllSync();
    onExit();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', ...signals]) process.on(sig, () => process.exit(130));
  return dir;
}

/** Synchronous last resort on exit, crash or signal: SIGKILL every process group still running. */
export function killAllSync() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}

/** Runs a command to completion; returns stdout, stderr and status. */
export function runCommand(command, args, { cpu, env, timeoutMs = 120_000, input } = {}) {
  return new Promise((resolve) => {
    const child = startProcess(command, args, {
      cpu,
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => stopProcess(child, 'SIGKILL'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status, signal });
    });
  });
}

/** A free loopback port (bound once and released; fine on a machine where nothing races for it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:port, or fails after timeoutMs. */
export async function waitForPort(port, timeoutMs = 15_000, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Pins this process (and so every child not pinned elsewhere) to one CPU. */
export function pinSelf(cpu) {
  spawnSync('taskset', ['-apc', String(cpu), String(process.pid)], { stdio: 'ignore' });
}
