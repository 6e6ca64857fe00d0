// enforcePosture logs every finding at its severity's level, exports posture_finding{id,severity}, and refuses
// critical findings unless overridden.
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError, EXIT_CONFIG } from '../../src/errors.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { enforcePosture } from '../../src/posture/enforce.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { FULL_CAPS, formatStatus, makeFsRoot, makeProcRoot } from '../posture/helpers/fixtures.js';

interface LogLine {
  level: number;
  msg: string;
  posture?: { id?: string; severity?: string; remediation?: string };
}

function captureLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

t.test('enforcePosture', async (t) => {
  const dir = makeTmpDir('mtls-enforce-');
  const proc = makeProcRoot(
    formatStatus({ uid: 0, gid: 0, capEff: FULL_CAPS, capBnd: FULL_CAPS, noNewPrivs: 0, seccomp: 0 }),
  );
  const fs = makeFsRoot();
  t.teardown(() => {
    removeDir(dir);
    proc.cleanup();
    fs.cleanup();
  });
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', eku: 'serverAuth' });
  const flags = {
    upstream: 'http://10.1.2.3:8080',
    cert: server.cert,
    key: server.key,
    'client-ca': [ca.cert],
    'allow-any-verified': true,
  };
  const probe = { procRoot: proc.procRoot, fsRoot: fs.fsRoot };

  t.test('refused without the override, after logging and exporting every finding', async (t) => {
    const { log, lines } = captureLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    let thrown: unknown;
    try {
      enforcePosture(loadConfig({ flags, env: {} }), { log, metrics }, probe);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof ConfigError, 'a ConfigError');
    const error = thrown as ConfigError;
    t.equal(error.exitCode, EXIT_CONFIG);
    t.match(error.problems.join('\n'), /running-as-root: .*uid 0.*fix: .*runAsNonRoot: true/);
    t.match(error.problems.join('\n'), /dangerous-capability-effective: .*CAP_SYS_ADMIN/);
    t.match(error.problems.at(-1), /--allow-insecure-posture/);
    t.notMatch(error.problems.join('\n'), /plaintext-upstream/, 'only critical findings refuse');

    const byId = new Map(lines.filter((l) => l.posture?.id).map((l) => [l.posture?.id, l]));
    t.equal(byId.get('running-as-root')?.level, 50, 'critical logs at error');
    t.equal(byId.get('plaintext-upstream')?.level, 40, 'warn logs at warn');
    t.equal(byId.get('running-as-root-group')?.level, 30, 'info logs at info');
    t.match(byId.get('plaintext-upstream')?.msg, /10\.1\.2\.3/);
    t.match(byId.get('running-as-root')?.posture?.remediation, /runAsNonRoot/);

    const text = await metrics.registry.metrics();
    const exported = [...text.matchAll(/^mtls_sidecar_posture_finding\{id="([^"]+)",severity="([^"]+)"\} 1$/gm)].map(
      (m) => `${m[1]}/${m[2]}`,
    );
    const logged = lines.filter((l) => l.posture?.id).map((l) => `${l.posture?.id}/${l.posture?.severity}`);
    t.same(exported.sort(), logged.sort(), 'one metric series per logged finding');
    t.ok(exported.includes('running-as-root/critical'));
    t.ok(exported.includes('seccomp-off/warn'));
  });

  t.test('with --allow-insecure-posture: returns the findings and says it is overriding', async (t) => {
    const { log, lines } = captureLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const findings = enforcePosture(
      loadConfig({ flags: { ...flags, 'allow-insecure-posture': true }, env: {} }),
      { log, metrics },
      probe,
    );
    t.ok(findings.some((f) => f.id === 'running-as-root' && f.severity === 'critical'));
    t.ok(
      lines.some((l) => l.level === 40 && /--allow-insecure-posture/.test(l.msg)),
      'the override is logged',
    );
  });

  t.test('a clean posture passes quietly', async (t) => {
    const clean = makeProcRoot(
      formatStatus({ uid: 10001, gid: 10001, noNewPrivs: 1, seccomp: 2 }),
      '27 1 254:0 / / ro,relatime - ext4 /dev/vda ro\n',
    );
    t.teardown(clean.cleanup);
    const { log, lines } = captureLogger();
    const findings = enforcePosture(
      loadConfig({ flags: { ...flags, upstream: 'http://127.0.0.1:8080' }, env: {} }),
      { log, metrics: createMetrics({ defaultMetrics: false }) },
      { procRoot: clean.procRoot, fsRoot: fs.fsRoot },
    );
    t.same(findings, []);
    t.same(lines, []);
  });
});
