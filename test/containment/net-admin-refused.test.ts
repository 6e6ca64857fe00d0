// A non-root proxy holding CAP_NET_ADMIN (bounding and effective, raised through the ambient set) refuses to start,
// naming it.
import t from 'tap';
import {
  CLI,
  SETPRIV_NET_ADMIN,
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
  return repoReadableByUnprivileged()
    ? false
    : `uid ${UNPRIVILEGED_UID} cannot read the repository's dist/ and node_modules/`;
}

t.test('CAP_NET_ADMIN kept', { skip: skipReason() }, async (t) => {
  const world = makeWorld(UNPRIVILEGED_UID);
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    world.cleanup();
  });

  const c = spawnChild(
    'setpriv',
    [...SETPRIV_NET_ADMIN, process.execPath, CLI, ...world.runArgs(upstream.url)],
    world.dir,
  );
  t.equal(await waitForExit(c), 78, 'EX_CONFIG');
  const stderr = c.stderr();
  t.match(stderr, /dangerous-capability-effective/);
  t.match(stderr, /CAP_NET_ADMIN/);
  t.match(stderr, /capabilities\.drop: \[ALL\]/, 'gives the Kubernetes fix');
  t.match(stderr, /cap_drop: \[ALL\]/, 'gives the compose fix');
  t.notMatch(stderr, /running-as-root/, 'not refused for being root');
  t.notOk(c.stdout().includes('mtls-sidecar listening'), 'never listened');
});
