// Key files readable or writable by group or others are a warning with their mode; a missing key is reported, not
// thrown.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { evaluatePosture } from '../../src/posture/findings.js';
import { probePosture } from '../../src/posture/probe.js';
import { makeFsRoot } from './helpers/fixtures.js';

t.test('modes as stat(1) sees them', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  const files: Record<string, number> = {
    'tight.key': 0o600,
    'owner-ro.key': 0o400,
    'group.key': 0o640,
    'world.key': 0o644,
    'gw.key': 0o620,
  };
  for (const [name, mode] of Object.entries(files)) {
    writeFileSync(join(fs.fsRoot, name), 'not really a key');
    chmodSync(join(fs.fsRoot, name), mode);
  }
  // Kubernetes Secret volumes: key → ..data/key, and the target's mode is what counts.
  mkdirSync(join(fs.fsRoot, '..data'));
  writeFileSync(join(fs.fsRoot, '..data/tls.key'), 'x');
  chmodSync(join(fs.fsRoot, '..data/tls.key'), 0o644);
  symlinkSync('..data/tls.key', join(fs.fsRoot, 'tls.key'));

  const keyFiles = [...Object.keys(files), 'tls.key'].map((name) => join(fs.fsRoot, name));
  const facts = probePosture({ keyFiles }, { fsRoot: fs.fsRoot });
  const statMode = (file: string) => `0${execFileSync('stat', ['-L', '-c', '%a', file], { encoding: 'utf8' }).trim()}`;
  const expected = ['group.key', 'world.key', 'gw.key', 'tls.key'].map((name) => {
    const file = join(fs.fsRoot, name);
    return { file, mode: statMode(file) };
  });
  t.same(facts.looseKeyFiles, expected);
  const finding = evaluatePosture(facts).find((f) => f.id === 'private-key-permissions');
  t.equal(finding?.severity, 'warn');
  t.match(finding?.message, `${join(fs.fsRoot, 'world.key')} (mode 0644)`);
  t.match(finding?.remediation, 'chmod 0600');
});

t.test('a key file that does not exist', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  const missing = join(fs.fsRoot, 'missing.key');
  const facts = probePosture({ keyFiles: [missing] }, { fsRoot: fs.fsRoot });
  t.same(facts.looseKeyFiles, []);
  t.same(facts.unreadable, [{ what: missing, error: 'ENOENT' }]);
  t.ok(evaluatePosture(facts).some((f) => f.id === 'probe-unreadable'));
});
