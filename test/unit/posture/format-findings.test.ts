// Findings format as one labelled line each plus a fix line; counts per severity.
import t from 'tap';
import type { Finding } from '../../../src/posture/types.js';
import { countFindings, formatFindings } from '../../../src/posture/report.js';

const findings: Finding[] = [
  {
    id: 'running-as-root',
    severity: 'critical',
    message: 'the proxy runs with effective uid 0 (root)',
    remediation: 'securityContext.runAsNonRoot: true',
  },
  {
    id: 'seccomp-off',
    severity: 'warn',
    message: 'no seccomp filter is applied',
    remediation: 'securityContext.seccompProfile.type: RuntimeDefault',
  },
  { id: 'running-as-root-group', severity: 'info', message: 'gid 0', remediation: 'runAsGroup' },
];

t.test('text report', async (t) => {
  t.equal(
    formatFindings(findings),
    [
      'CRITICAL running-as-root: the proxy runs with effective uid 0 (root)',
      '  fix: securityContext.runAsNonRoot: true',
      'WARN seccomp-off: no seccomp filter is applied',
      '  fix: securityContext.seccompProfile.type: RuntimeDefault',
      'INFO running-as-root-group: gid 0',
      '  fix: runAsGroup',
    ].join('\n'),
  );
  t.equal(formatFindings([]), 'posture: no findings');
});

t.test('counts', async (t) => {
  t.same(countFindings(findings), { critical: 1, warn: 1, info: 1 });
  t.same(countFindings([]), { critical: 0, warn: 0, info: 0 });
});
