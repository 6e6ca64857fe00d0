// Runs podman the way this machine allows: runc (crun refuses hybrid cgroups) and limits it can grant.
import { spawn, spawnSync } from 'node:child_process';

/** Global options placed before every podman sub-command. */
const GLOBAL = ['--runtime', 'runc'];
/** The default limits cannot be raised on these machines; these can. */
export const RUN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A skip reason when podman cannot run containers here, else false. */
export function podmanSkipReason(): string | false {
  if (process.platform !== 'linux') return 'container tests need Linux';
  if (process.geteuid?.() !== 0) return 'container tests need root (rootful podman, chown of bind-mounted files)';
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return 'podman is not installed (apt-get install -y podman runc); container tests skipped';
  if (spawnSync('runc', ['--version']).status !== 0)
    return 'runc is not installed (apt-get install -y runc); container tests skipped';
  return false;
}

/** Runs `podman ARGS` to completion without a shell; never throws for a non-zero exit. */
export function podman(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('podman', [...GLOBAL, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like podman() but rejects with stderr on a non-zero exit. */
export async function podmanOk(args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const result = await podman(args, options);
  if (result.status !== 0)
    throw new Error(
      `podman ${args.slice(0, 3).join(' ')} … failed (${result.status}): ${result.stderr.trim().slice(-2000)}`,
    );
  return result.stdout;
}

export async function imageExists(tag: string): Promise<boolean> {
  return (await podman(['image', 'exists', tag])).status === 0;
}

/** The host PID of a running container's first process. */
export async function containerPid(name: string): Promise<number> {
  const pid = Number((await podmanOk(['inspect', '--format', '{{.State.Pid}}', name])).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`container ${name} has no running process`);
  return pid;
}

export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--time', '2', name]);
}
