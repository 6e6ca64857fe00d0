// The real probe, run in child processes whose uid and capabilities setpriv sets, reports what setpriv configured.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { buildProbeRunner, runProbeCommand } from './helpers/probe-runner.js';

const isRoot = process.geteuid?.() === 0;
const DROP_ALL = [
  '--reuid=10001',
  '--regid=10001',
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
];
const NET_ADMIN_ONLY = [
  '--reuid=10001',
  '--regid=10001',
  '--clear-groups',
  '--inh-caps=+net_admin',
  '--ambient-caps=+net_admin',
  '--bounding-set=-all,+net_admin',
];

/** util-linux's own decoding of the bounding set, as `CAP_X` names, for an independent comparison. */
function readSetprivBoundingSet(setprivArgs: string[]): string[] {
  const dump = spawnSync('setpriv', [...setprivArgs, 'setpriv', '--dump'], { encoding: 'utf8' });
  const line = dump.stdout.split('\n').find((l) => l.startsWith('Capability bounding set:')) ?? '';
  const value = line.slice('Capability bounding set:'.length).trim();
  if (value === '[none]') return [];
  return value.split(',').map((name) => `CAP_${name.trim().toUpperCase()}`);
}

t.test(
  'real processes under setpriv',
  { skip: isRoot ? false : 'needs root to change uid and capabilities' },
  async (t) => {
    const runner = buildProbeRunner();
    t.teardown(runner.cleanup);

    t.test('root with the full capability set is critical', async (t) => {
      const { facts, findings } = runProbeCommand(process.execPath, [runner.script]);
      t.equal(facts.uid, 0);
      t.same(facts.capBnd, readSetprivBoundingSet([]), 'bounding set matches setpriv --dump');
      const critical = findings.filter((f) => f.severity === 'critical').map((f) => f.id);
      t.ok(critical.includes('running-as-root'));
      t.ok(critical.includes('dangerous-capability-effective'));
      const caps = findings.find((f) => f.id === 'dangerous-capability-effective');
      for (const cap of [
        'CAP_SYS_ADMIN',
        'CAP_SYS_PTRACE',
        'CAP_SYS_MODULE',
        'CAP_NET_ADMIN',
        'CAP_DAC_OVERRIDE',
        'CAP_DAC_READ_SEARCH',
      ]) {
        t.match(caps?.message, cap);
      }
    });

    t.test('non-root with every capability dropped and no-new-privs has no critical finding', async (t) => {
      const { facts, findings } = runProbeCommand('setpriv', [...DROP_ALL, process.execPath, runner.script]);
      t.equal(facts.uid, 10001);
      t.equal(facts.gid, 10001);
      t.same(facts.capEff, []);
      t.same(facts.capBnd, []);
      t.same(readSetprivBoundingSet(DROP_ALL), [], 'setpriv agrees the bounding set is empty');
      t.equal(facts.noNewPrivs, true);
      t.same(
        findings.filter((f) => f.severity === 'critical'),
        [],
      );
      t.notOk(findings.some((f) => f.id === 'no-new-privs-off'));
    });

    t.test('non-root with CAP_NET_ADMIN raised through the ambient set is critical', async (t) => {
      const { facts, findings } = runProbeCommand('setpriv', [...NET_ADMIN_ONLY, process.execPath, runner.script]);
      t.equal(facts.uid, 10001);
      t.same(facts.capEff, ['CAP_NET_ADMIN']);
      t.same(facts.capBnd, readSetprivBoundingSet(NET_ADMIN_ONLY));
      const finding = findings.find((f) => f.id === 'dangerous-capability-effective');
      t.equal(finding?.severity, 'critical');
      t.match(finding?.message, 'CAP_NET_ADMIN');
      t.notOk(findings.some((f) => f.id === 'running-as-root'));
    });
  },
);
