// A listening container-runtime socket at /run/docker.sock (private mount namespace only) makes an otherwise clean
// proxy refuse to start.
import { lstatSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { canUnshareMounts } from '../posture/helpers/namespace.js';
import {
  CLI,
  SETPRIV_DROP_ALL,
  UNPRIVILEGED_UID,
  containmentSkipReason,
  makeWorld,
  repoReadableByUnprivileged,
  spawnChild,
  startUpstream,
  waitForExit,
} from './helpers/sidecar.js';

function skipReason(): string | false {
  const base = containmentSkipReason();
  if (base) return base;
  if (!canUnshareMounts()) return 'unshare -m is not permitted here';
  return repoReadableByUnprivileged()
    ? false
    : `uid ${UNPRIVILEGED_UID} cannot read the repository's dist/ and node_modules/`;
}

// Inside its own mount namespace (propagation private, so nothing reaches the host): a tmpfs over /run,
// a real listener on /run/docker.sock that uid 10001 may connect to (it marks itself ready once the socket's mode is
// set; the loop polls for that, bounded), then the proxy as uid 10001.
const SCRIPT = `
set -u
mount -t tmpfs -o mode=0755 tmpfs /run || exit 90
"$1" -e 'const fs = require("fs"); const s = require("net").createServer().listen("/run/docker.sock", () => { fs.chmodSync("/run/docker.sock", 0o666); fs.writeFileSync("/run/.listener-ready", ""); }); setTimeout(() => s.close(), 60000);' &
listener=$!
i=0
while [ ! -e /run/.listener-ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
shift
setpriv "$@"
rc=$?
kill $listener 2>/dev/null
wait $listener 2>/dev/null
exit $rc
`;

function expectedDockerPath(): string {
  try {
    return lstatSync('/var/run').isSymbolicLink() && readlinkSync('/var/run').replace(/^\//, '') === 'run'
      ? '/var/run/docker.sock'
      : '/run/docker.sock';
  } catch {
    return '/run/docker.sock';
  }
}

t.test('docker.sock visible', { skip: skipReason() }, async (t) => {
  const world = makeWorld(UNPRIVILEGED_UID);
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    world.cleanup();
  });

  const args = [
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    SCRIPT,
    'sh',
    process.execPath,
    ...SETPRIV_DROP_ALL,
    process.execPath,
    CLI,
    ...world.runArgs(upstream.url),
  ];
  const c = spawnChild('unshare', args, world.dir);
  t.equal(await waitForExit(c, 30_000), 78, 'EX_CONFIG');
  const stderr = c.stderr();
  t.match(stderr, /runtime-socket/);
  t.match(stderr, expectedDockerPath());
  t.match(stderr, /hostPath/, 'gives the Kubernetes fix');
  t.notMatch(stderr, /running-as-root|dangerous-capability/, 'refused for the socket alone');
  t.notOk(c.stdout().includes('mtls-sidecar listening'), 'never listened');
});
