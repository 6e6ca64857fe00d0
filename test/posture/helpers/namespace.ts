// Runs a shell script inside a private mount namespace so mount changes never reach the host.
import { spawnSync } from 'node:child_process';

/** True when `unshare -m` works here (root, and no seccomp/LSM forbidding it). */
export function canUnshareMounts(): boolean {
  if (process.geteuid?.() !== 0) return false;
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { timeout: 10_000 });
  return probe.status === 0;
}

/** `unshare -m --propagation private sh -c SCRIPT` with positional arguments $1…; returns [command, args]. */
export function inPrivateMountNamespace(script: string, positional: string[]): [string, string[]] {
  return ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...positional]];
}
