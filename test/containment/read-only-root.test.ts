// `check --json` sees a read-only root (bind remount inside a private mount namespace) and then reports no
// root-filesystem-writable warning.
import t from 'tap';
import { canUnshareMounts } from '../posture/helpers/namespace.js';
import { CLI, containmentSkipReason, makeWorld, spawnChild, waitForExit } from './helpers/sidecar.js';

interface CheckJson {
  posture: { findings: { id: string; severity: string }[] };
}

function skipReason(): string | false {
  const base = containmentSkipReason();
  if (base) return base;
  return canUnshareMounts() ? false : 'unshare -m is not permitted here';
}

/** Runs `check --json` inside a private mount namespace, after `prelude` (shell) ran there. */
async function checkInNamespace(
  prelude: string,
  checkArgs: string[],
  cwd: string,
): Promise<{ code: number | string; report: CheckJson; stderr: string }> {
  const script = `${prelude} || exit 90\nexec "$@"`;
  const c = spawnChild(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      process.execPath,
      CLI,
      'check',
      '--json',
      ...checkArgs,
    ],
    cwd,
  );
  const code = await waitForExit(c, 30_000);
  return { code, report: JSON.parse(c.stdout()) as CheckJson, stderr: c.stderr() };
}

t.test('read-only root', { skip: skipReason() }, async (t) => {
  const world = makeWorld(0);
  t.teardown(world.cleanup);
  const args = world.runArgs('http://127.0.0.1:9').slice(1);
  const ids = (r: CheckJson): string[] => r.posture.findings.map((f) => f.id);

  // Bind form only: it changes the per-mount flag of this namespace's copy of /, never the host's.
  const ro = await checkInNamespace('mount -o remount,bind,ro /', args, world.dir);
  t.notOk(ids(ro.report).includes('root-filesystem-writable'), 'no root-filesystem-writable warning');
  t.notOk(ids(ro.report).includes('probe-unreadable'), 'mountinfo was read');

  const rw = await checkInNamespace('true', args, world.dir);
  t.ok(ids(rw.report).includes('root-filesystem-writable'), 'control: the writable root is reported');
});
