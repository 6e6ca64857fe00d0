// `check` exits 1 exactly when `run` would refuse to start (config, material, policy or critical posture), naming the
// stage and the problem, and 0 otherwise.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

interface Report {
  ok: boolean;
  problems: string[];
  checks: Record<
    'config' | 'material' | 'policy' | 'posture',
    { status: string; problems: string[]; override?: string }
  >;
  posture: { findings: { id: string; severity: string }[]; counts: { critical: number } };
  certificates: { role: string }[];
}

t.test('check exit codes', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-check-exit-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
  const stranger = makeLeaf(dir, 'stranger', ca);
  const base = ['--upstream', 'http://127.0.0.1:9', '--cert', server.cert, '--key', server.key, '--client-ca', ca.cert];
  const check = (args: string[]): { status: number | null; report: Report } => {
    const result = runCli(['check', '--json', ...args]);
    return { status: result.status, report: JSON.parse(result.stdout) as Report };
  };

  t.test('a good configuration with the override: 0', async (t) => {
    const { status, report } = check([...base, '--allow-cn', 'orders', '--allow-insecure-posture']);
    t.equal(status, 0);
    t.equal(report.ok, true);
    t.same(report.problems, []);
  });

  t.test('a missing required flag: 1, config failed, later stages skipped', async (t) => {
    const { status, report } = check([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--client-ca',
      ca.cert,
      '--allow-cn',
      'orders',
    ]);
    t.equal(status, 1);
    t.equal(report.ok, false);
    t.equal(report.checks.config.status, 'failed');
    t.match(report.checks.config.problems.join('\n'), /--upstream is required/);
    t.equal(report.checks.material.status, 'skipped');
    t.equal(report.checks.policy.status, 'skipped');
    t.ok(report.posture.findings.length > 0 || process.geteuid?.() !== 0, 'the process posture is still reported');
  });

  t.test('a key that does not match the certificate: 1, material failed', async (t) => {
    const { status, report } = check([
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      server.cert,
      '--key',
      stranger.key,
      '--client-ca',
      ca.cert,
      '--allow-cn',
      'orders',
      '--allow-insecure-posture',
    ]);
    t.equal(status, 1);
    t.equal(report.checks.material.status, 'failed');
    t.match(report.checks.material.problems.join('\n'), /--key .* does not match the certificate/);
    t.equal(report.checks.policy.status, 'ok', 'the policy is still checked');
    t.same(
      report.certificates.map((c) => c.role),
      ['server', 'client-ca'],
      'expiry is still shown',
    );
  });

  t.test('a policy default and --allow-* flags together: 1, policy failed', async (t) => {
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'routes: []\ndefault:\n  allow:\n    - cn: orders\n');
    const { status, report } = check([...base, '--policy', policy, '--allow-cn', 'orders', '--allow-insecure-posture']);
    t.equal(status, 1);
    t.equal(report.checks.policy.status, 'failed');
    t.match(report.problems.join('\n'), /pick one/);
  });

  t.test(
    'critical posture without the override: 1, posture failed',
    { skip: process.geteuid?.() === 0 ? false : 'the runner is not root' },
    async (t) => {
      const { status, report } = check([...base, '--allow-cn', 'orders']);
      t.equal(status, 1);
      t.equal(report.checks.posture.status, 'failed');
      t.match(report.checks.posture.problems.join('\n'), /running-as-root: .*uid 0.*fix: .*runAsNonRoot/);
      t.ok(
        report.checks.posture.problems.every((p) => p.startsWith('posture ')),
        'one problem per critical finding, nothing else counted',
      );
      t.equal(report.checks.posture.problems.length, report.posture.counts.critical);
      t.match(report.checks.posture.override, /--allow-insecure-posture/, 'the override is named beside the problems');
      const withOverride = check([...base, '--allow-cn', 'orders', '--allow-insecure-posture']);
      t.equal(withOverride.report.checks.posture.status, 'overridden');
      t.equal(withOverride.status, 0);
    },
  );
});
