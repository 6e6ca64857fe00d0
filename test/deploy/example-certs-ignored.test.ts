// The README's commands write certificate directories (with ca.key) into the clone: git must never pick them up.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { REPO_ROOT } from './lib/paths.js';

const inGit =
  spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim() ===
  'true';

for (const path of ['certs/ca.key', 'certs/orders.key', 'deploy/compose/certs/ca.key', '.mtls-dev/ca.key']) {
  t.test(path, { skip: inGit ? false : 'not a git work tree' }, async (t) => {
    const r = spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: REPO_ROOT });
    t.equal(r.status, 0, `${path} is ignored`);
  });
}
