// A privileged container running as a non-root user (empty CapEff, full CapBnd) is critical unless NoNewPrivs is on.
import t from 'tap';
import { describePostureRefusal } from '../../../src/posture/enforce.js';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { FULL_CAPS, formatStatus, makeFsRoot, makeProcRoot } from '../../posture/helpers/fixtures.js';

const DANGEROUS = [
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_SYS_MODULE',
  'CAP_NET_ADMIN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
];

function probeFixture(t: { teardown(fn: () => void): void }, status: string) {
  const proc = makeProcRoot(status);
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  return probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
}

t.test('NoNewPrivs off: bounding-set capabilities are critical', async (t) => {
  const facts = probeFixture(
    t,
    formatStatus({ uid: 1000, gid: 1000, capEff: '0000000000000000', capBnd: FULL_CAPS, noNewPrivs: 0, seccomp: 2 }),
  );
  t.equal(facts.uid, 1000);
  t.same(facts.capEff, []);
  t.equal(facts.capBnd.length, 41);
  t.equal(facts.noNewPrivs, false);
  const findings = evaluatePosture(facts);
  const bounding = findings.find((f) => f.id === 'dangerous-capability-bounding');
  t.equal(bounding?.severity, 'critical');
  for (const cap of DANGEROUS) t.match(bounding?.message, cap);
  t.match(bounding?.remediation, 'allowPrivilegeEscalation: false');
  t.match(bounding?.remediation, 'capabilities.drop: [ALL]');
  t.notOk(findings.some((f) => f.id === 'dangerous-capability-effective'));
  t.notOk(findings.some((f) => f.id === 'running-as-root'));
  t.ok(findings.some((f) => f.id === 'no-new-privs-off' && f.severity === 'warn'));
  t.match(describePostureRefusal(findings)[0], /^posture dangerous-capability-bounding: /, 'start is refused');
});

t.test('NoNewPrivs on: the same bounding set is only a warning', async (t) => {
  const facts = probeFixture(
    t,
    formatStatus({ uid: 1000, gid: 1000, capEff: '0000000000000000', capBnd: FULL_CAPS, noNewPrivs: 1, seccomp: 2 }),
  );
  t.equal(facts.noNewPrivs, true);
  const findings = evaluatePosture(facts);
  t.equal(findings.find((f) => f.id === 'dangerous-capability-bounding')?.severity, 'warn');
  t.same(describePostureRefusal(findings), [], 'start is not refused');
  t.notOk(findings.some((f) => f.id === 'no-new-privs-off'));
  t.notOk(findings.some((f) => f.id === 'seccomp-off'));
});

t.test('NoNewPrivs missing from status is treated as off and reported', async (t) => {
  const facts = probeFixture(
    t,
    formatStatus({ uid: 1000, gid: 1000, capBnd: FULL_CAPS, noNewPrivs: null, seccomp: 2 }),
  );
  t.equal(facts.noNewPrivs, null);
  t.ok(facts.unreadable.some((u) => u.what.endsWith('NoNewPrivs')));
  const findings = evaluatePosture(facts);
  t.equal(findings.find((f) => f.id === 'dangerous-capability-bounding')?.severity, 'critical');
  t.ok(findings.some((f) => f.id === 'probe-unreadable'));
});
