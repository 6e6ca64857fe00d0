// A root bind-remounted read-only in a private mount namespace is seen as read-only by the real probe.
import t from 'tap';
import { buildProbeRunner, runProbeCommand } from './helpers/probe-runner.js';
import { canUnshareMounts, inPrivateMountNamespace } from './helpers/namespace.js';

t.test('read-only root', { skip: canUnshareMounts() ? false : 'needs root and unshare -m' }, async (t) => {
  const runner = buildProbeRunner();
  t.teardown(runner.cleanup);

  t.test('remount,bind,ro / inside the namespace', async (t) => {
    // Only the bind form: it flips the per-mount flag of this namespace's copy of /, never the filesystem.
    // findmnt (util-linux) reports on stderr, so stdout stays the runner's JSON.
    const script = 'mount -o remount,bind,ro / && findmnt -n -o VFS-OPTIONS / >&2 && exec "$1" "$2"';
    const [cmd, args] = inPrivateMountNamespace(script, [process.execPath, runner.script]);
    const { facts, findings, stderr } = runProbeCommand(cmd, args);
    t.match(stderr, /^ro\b/, 'findmnt agrees / is read-only');
    t.equal(facts.rootReadOnly, true);
    t.notOk(findings.some((f) => f.id === 'root-filesystem-writable'));
  });

  t.test('the same namespace without the remount', async (t) => {
    const script = 'findmnt -n -o VFS-OPTIONS,FS-OPTIONS / >&2 && exec "$1" "$2"';
    const [cmd, args] = inPrivateMountNamespace(script, [process.execPath, runner.script]);
    const { facts, findings, stderr } = runProbeCommand(cmd, args);
    const [vfs = '', fsOptions = ''] = stderr.trim().split(/\s+/);
    const expected = vfs.split(',').includes('ro') || fsOptions.split(',').includes('ro');
    t.equal(expected, false, "this machine's / is writable (as findmnt shows)");
    t.equal(facts.rootReadOnly, expected);
    t.equal(findings.find((f) => f.id === 'root-filesystem-writable')?.severity, 'warn');
  });
});
