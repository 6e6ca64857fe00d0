// A root process with full capabilities, no NoNewPrivs and no seccomp gets every identity and capability finding.
import t from 'tap';
import { describePostureRefusal } from '../../../src/posture/enforce.js';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { formatStatus, makeFsRoot, makeProcRoot } from '../../posture/helpers/fixtures.js';

t.test('root with CapEff 000001fffeffffff (everything but CAP_SYS_RESOURCE)', async (t) => {
  const proc = makeProcRoot(
    formatStatus({ uid: 0, gid: 0, capEff: '000001fffeffffff', capBnd: '000001fffeffffff', noNewPrivs: 0, seccomp: 0 }),
  );
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  const facts = probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
  t.equal(facts.uid, 0);
  t.equal(facts.gid, 0);
  t.equal(facts.seccompMode, 0);
  t.equal(facts.rootReadOnly, false);
  t.same(facts.unreadable, []);
  t.notOk(facts.capEff.includes('CAP_SYS_RESOURCE'), 'bit 24 is clear');
  t.ok(facts.capEff.includes('CAP_CHECKPOINT_RESTORE'), 'bit 40 is set');

  const findings = evaluatePosture(facts);
  const byId = new Map(findings.map((f) => [f.id, f]));
  t.equal(byId.get('running-as-root')?.severity, 'critical');
  t.match(byId.get('running-as-root')?.remediation, 'runAsNonRoot: true');
  t.match(byId.get('running-as-root')?.remediation, 'user: "10001:10001"');
  t.equal(byId.get('dangerous-capability-effective')?.severity, 'critical');
  t.notOk(byId.has('dangerous-capability-bounding'), 'effective capabilities are not reported twice');
  t.equal(byId.get('no-new-privs-off')?.severity, 'warn');
  t.equal(byId.get('seccomp-off')?.severity, 'warn');
  t.match(byId.get('seccomp-off')?.remediation, 'seccompProfile.type: RuntimeDefault');
  t.equal(byId.get('root-filesystem-writable')?.severity, 'warn');
  t.match(byId.get('root-filesystem-writable')?.remediation, 'readOnlyRootFilesystem: true');
  t.match(byId.get('root-filesystem-writable')?.remediation, 'read_only: true');
  t.equal(byId.get('running-as-root-group')?.severity, 'info');
  t.match(describePostureRefusal(findings).join('\n'), /^posture running-as-root: /m, 'start is refused');
  const severities = findings.map((f) => f.severity);
  t.same(
    severities,
    [...severities].sort((a, b) => ['critical', 'warn', 'info'].indexOf(a) - ['critical', 'warn', 'info'].indexOf(b)),
    'critical first',
  );
});

t.test('a hardened non-root process has no finding at all', async (t) => {
  const ro = '27 1 254:0 / / ro,relatime - ext4 /dev/vda rw\n';
  const proc = makeProcRoot(formatStatus({ uid: 10001, gid: 10001, noNewPrivs: 1, seccomp: 2 }), ro);
  const fs = makeFsRoot();
  t.teardown(() => {
    proc.cleanup();
    fs.cleanup();
  });
  const facts = probePosture({ keyFiles: [] }, { procRoot: proc.procRoot, fsRoot: fs.fsRoot });
  t.same(evaluatePosture(facts), []);
});
