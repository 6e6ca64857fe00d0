// A /proc that cannot be read is reported as a finding, never a crash.
import t from 'tap';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { makeFsRoot, makeProcRoot } from '../../posture/helpers/fixtures.js';

t.test('missing status and mountinfo', async (t) => {
  const proc = makeProcRoot(null, null);
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  const facts = probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
  t.same(facts.capEff, []);
  t.equal(facts.noNewPrivs, null);
  t.equal(facts.seccompMode, null);
  t.equal(facts.rootReadOnly, null);
  t.same(
    facts.unreadable.map((u) => u.error),
    ['ENOENT', 'ENOENT'],
  );
  const findings = evaluatePosture(facts);
  const unreadable = findings.find((f) => f.id === 'probe-unreadable');
  t.equal(unreadable?.severity, 'warn');
  t.match(unreadable?.message, 'self/status: ENOENT');
  t.match(unreadable?.message, 'self/mountinfo: ENOENT');
  t.notOk(
    findings.some((f) => f.id === 'root-filesystem-writable'),
    'unknown is not reported as writable',
  );
});

t.test('status is a directory, mountinfo has garbage', async (t) => {
  const proc = makeProcRoot(null, 'not a mountinfo line\n\n');
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(`${proc.procRoot}/self/status`);
  const facts = probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
  t.same(
    facts.unreadable.map((u) => u.error),
    ['EISDIR', 'no mount at /'],
  );
});

t.test('malformed capability masks are reported, not guessed', async (t) => {
  const proc = makeProcRoot('Uid:\t5\t5\t5\t5\nGid:\tx\nCapEff:\tzz\nCapBnd:\t\nNoNewPrivs:\t1\nSeccomp:\t2\n');
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  const facts = probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
  t.equal(facts.uid, 5);
  t.same(
    facts.unreadable.map((u) => u.what.split(' ')[1]),
    ['Gid', 'CapEff', 'CapBnd'],
  );
});
