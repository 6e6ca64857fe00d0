// A listening docker.sock on a private tmpfs /run is found by the real probe at the real path and is critical.
import { lstatSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { buildProbeRunner, runProbeCommand } from './helpers/probe-runner.js';
import { canUnshareMounts, inPrivateMountNamespace } from './helpers/namespace.js';

/** On Debian /var/run is a link to /run, so the socket is reported once under the first probed name. */
function expectedDockerPath(): string {
  try {
    return lstatSync('/var/run').isSymbolicLink() && readlinkSync('/var/run').replace(/^\//, '') === 'run'
      ? '/var/run/docker.sock'
      : '/run/docker.sock';
  } catch {
    return '/run/docker.sock';
  }
}

t.test('runtime socket', { skip: canUnshareMounts() ? false : 'needs root and unshare -m' }, async (t) => {
  const runner = buildProbeRunner();
  t.teardown(runner.cleanup);

  t.test('docker.sock listening on a private /run', async (t) => {
    const script = 'mount -t tmpfs tmpfs /run && exec "$1" "$2" --listen-unix /run/docker.sock';
    const [cmd, args] = inPrivateMountNamespace(script, [process.execPath, runner.script]);
    const { facts, findings } = runProbeCommand(cmd, args);
    t.ok(facts.runtimeSockets.includes(expectedDockerPath()), `found at ${expectedDockerPath()}`);
    t.equal(facts.runtimeSockets.filter((p) => p.endsWith('docker.sock')).length, 1, 'one socket, one entry');
    const finding = findings.find((f) => f.id === 'runtime-socket');
    t.equal(finding?.severity, 'critical');
    t.match(finding?.message, 'docker.sock');
  });

  t.test('an empty private /run has no docker socket', async (t) => {
    const script = 'mount -t tmpfs tmpfs /run && exec "$1" "$2"';
    const [cmd, args] = inPrivateMountNamespace(script, [process.execPath, runner.script]);
    const { facts } = runProbeCommand(cmd, args);
    t.same(
      facts.runtimeSockets.filter((p) => p.startsWith('/run/') || expectedDockerPath() === '/var/run/docker.sock'),
      [],
    );
  });
});
