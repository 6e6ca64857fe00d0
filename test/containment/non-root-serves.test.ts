// Under setpriv as uid 10001 with no capabilities and no-new-privs, the built proxy starts and serves a real mTLS
// request.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { openssl } from '../helpers/pki.js';
import {
  CLI,
  SETPRIV_DROP_ALL,
  UNPRIVILEGED_UID,
  containmentSkipReason,
  makeWorld,
  repoReadableByUnprivileged,
  requestWithClientCert,
  spawnChild,
  startUpstream,
  stopChild,
  waitForListening,
} from './helpers/sidecar.js';

function skipReason(): string | false {
  const base = containmentSkipReason();
  if (base) return base;
  return repoReadableByUnprivileged()
    ? false
    : `uid ${UNPRIVILEGED_UID} cannot read the repository's dist/ and node_modules/`;
}

/** `Uid:` and `CapEff:` of a live process, as the kernel reports them. */
function readProcStatus(pid: number): { uid: string; capEff: string; capBnd: string; noNewPrivs: string } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string =>
    (text.split('\n').find((l) => l.startsWith(`${name}:`)) ?? '').slice(name.length + 1).trim();
  return {
    uid: field('Uid').split(/\s+/)[1] ?? '',
    capEff: field('CapEff'),
    capBnd: field('CapBnd'),
    noNewPrivs: field('NoNewPrivs'),
  };
}

t.test('unprivileged proxy', { skip: skipReason() }, async (t) => {
  const world = makeWorld(UNPRIVILEGED_UID);
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    world.cleanup();
  });

  const c = spawnChild(
    'setpriv',
    [...SETPRIV_DROP_ALL, process.execPath, CLI, ...world.runArgs(upstream.url)],
    world.dir,
  );
  t.teardown(() => stopChild(c));
  const port = await waitForListening(c);

  const pid = c.child.pid ?? 0;
  const status = readProcStatus(pid);
  t.same(
    status,
    { uid: '10001', capEff: '0000000000000000', capBnd: '0000000000000000', noNewPrivs: '1' },
    'the kernel agrees: uid 10001, no capabilities, no-new-privs',
  );

  const res = await requestWithClientCert(world, port, '/hello');
  t.equal(res.status, 200);
  t.equal(res.body, 'upstream ok');
  const subject = openssl(['x509', '-in', world.client.cert, '-noout', '-subject', '-nameopt', 'RFC2253'])
    .trim()
    .replace(/^subject=/, '');
  t.equal(upstream.received.at(-1)?.['x-client-subject'], subject, 'the upstream saw the caller as openssl names it');

  t.notMatch(c.stdout(), /"posture":\{"id":"[^"]+","severity":"critical"/, 'no critical posture finding logged');
  t.equal(await stopChild(c), 0, 'clean exit after SIGTERM');
});
