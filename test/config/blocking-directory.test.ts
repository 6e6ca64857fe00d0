// A file the proxy's uid cannot reach is reported with the directory that blocks it; the certs init layout lets it in.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  CLI,
  SETPRIV_DROP_ALL,
  containmentSkipReason,
  repoReadableByUnprivileged,
} from '../containment/helpers/sidecar.js';
import { makeTmpDir, removeDir } from '../helpers/pki.js';

const skip =
  containmentSkipReason() || (repoReadableByUnprivileged() ? false : 'uid 10001 cannot read the repository here');

/**
 * `check` as uid 10001 (no capabilities) on the compose layout: certs in DIR, key chowned to 10001 as the README says.
 */
function checkAsProxyUser(dir: string): { status: number | null; out: string } {
  const args = [
    'check',
    '--upstream',
    'http://127.0.0.1:1',
    '--cert',
    join(dir, 'server.crt'),
    '--key',
    join(dir, 'server.key'),
    '--client-ca',
    join(dir, 'ca.crt'),
    '--allow-any-verified',
  ];
  const r = spawnSync('setpriv', [...SETPRIV_DROP_ALL, process.execPath, CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env['PATH'] ?? '' },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

t.test('the compose layout made by certs init', { skip }, async (t) => {
  const parent = makeTmpDir('blocking-dir-');
  chmodSync(parent, 0o755);
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'certs');
  const init = spawnSync(process.execPath, [CLI, 'certs', 'init', dir, '--client', 'orders'], { encoding: 'utf8' });
  t.equal(init.status, 0, init.stderr);
  chownSync(join(dir, 'server.key'), 10001, 10001);

  t.test('as made: uid 10001 reads the certificates and its key', async (t) => {
    const r = checkAsProxyUser(dir);
    t.notMatch(r.out, /cannot be read/);
    t.match(r.out, /certificates: OK/);
    t.match(r.out, /result: OK, run would start/);
  });

  t.test('a directory closed to others: the message names that directory, its owner and mode', async (t) => {
    chmodSync(dir, 0o700);
    t.teardown(() => chmodSync(dir, 0o711));
    const r = checkAsProxyUser(dir);
    t.equal(r.status, 1, 'check fails');
    t.match(
      r.out,
      `cannot be read by this process (uid 10001, gid 10001): the directory ${JSON.stringify(dir)} (owner 0:0, mode 0700) does not let it in`,
    );
    t.match(r.out, /chmod o\+x/);
  });

  t.test('a key not given to the proxy user: the message names the file, its owner and mode', async (t) => {
    chownSync(join(dir, 'server.key'), 0, 0);
    const r = checkAsProxyUser(dir);
    t.equal(r.status, 1);
    t.match(r.out, /server\.key.*the file \(owner 0:0, mode 0600\) is not readable to it/);
  });
});
