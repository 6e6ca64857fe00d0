// Every escape path a misconfigured container opens is detected by the shipped image in a real runtime: each run
// starts from the Deployment's restricted settings, adds one misconfiguration, and asserts the finding, its severity,
// `check`'s verdict and whether `run` refuses (exit 78). The restricted run itself is in shipped-settings.test.ts.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { runOnce } from './lib/container-run.js';
import { ensureShippedImage } from './lib/image.js';
import { kubernetesSettings } from './lib/manifest-settings.js';
import { podmanSkipReason } from './lib/podman.js';
import { makeSecretDir } from './lib/secret-dir.js';

const skip = podmanSkipReason();
t.setTimeout(10 * 60_000);

/** A group id for the runtime socket that no image user has, granted with --group-add where the case says so. */
const SOCKET_GROUP = 2375;

interface Case {
  name: string;
  /** The restricted flags → the misconfigured ones. */
  flags(restricted: string[]): string[];
  network?: 'host';
  expect: { id: string; severity: 'critical' | 'warn' }[];
  refuses: boolean;
}

function replaceUser(flags: string[], user: string): string[] {
  const at = flags.indexOf('--user');
  return at < 0 ? ['--user', user, ...flags] : [...flags.slice(0, at), '--user', user, ...flags.slice(at + 2)];
}

/** Only the certificate mount of the restricted flags, for the case that replaces every other setting. */
function volumesOnly(flags: string[]): string[] {
  return flags.flatMap((flag, i) => (flag === '--volume' ? [flag, flags[i + 1] as string] : []));
}

function cases(sockets: { reachable: string; closed: string }, token: string): Case[] {
  return [
    {
      name: '--privileged --user 10001:10001 (no other setting)',
      flags: (r) => ['--user', '10001:10001', '--privileged', ...volumesOnly(r)],
      expect: [
        { id: 'dangerous-capability-bounding', severity: 'critical' },
        { id: 'host-devices', severity: 'warn' },
        { id: 'kernel-interfaces-writable', severity: 'warn' },
        { id: 'seccomp-off', severity: 'warn' },
      ],
      refuses: true,
    },
    {
      name: '--user 0 --cap-add SYS_ADMIN',
      flags: (r) => [...replaceUser(r, '0:0'), '--cap-add', 'SYS_ADMIN'],
      expect: [
        { id: 'running-as-root', severity: 'critical' },
        { id: 'dangerous-capability-effective', severity: 'critical' },
      ],
      refuses: true,
    },
    {
      name: 'docker.sock mounted and reachable (--group-add)',
      flags: (r) => [
        ...r,
        '--volume',
        `${sockets.reachable}:/var/run/docker.sock`,
        '--group-add',
        String(SOCKET_GROUP),
      ],
      expect: [{ id: 'runtime-socket', severity: 'critical' }],
      refuses: true,
    },
    {
      name: 'docker.sock mounted, not writable by the uid',
      flags: (r) => [...r, '--volume', `${sockets.closed}:/var/run/docker.sock`],
      expect: [{ id: 'runtime-socket-mounted', severity: 'warn' }],
      refuses: false,
    },
    {
      name: '--pid host',
      flags: (r) => [...r, '--pid', 'host'],
      expect: [{ id: 'host-pid-namespace', severity: 'warn' }],
      refuses: false,
    },
    {
      name: '--ipc host',
      flags: (r) => [...r, '--ipc', 'host'],
      expect: [{ id: 'host-ipc-namespace', severity: 'warn' }],
      refuses: false,
    },
    {
      name: '-v /proc:/host/proc:ro',
      flags: (r) => [...r, '--volume', '/proc:/host/proc:ro'],
      expect: [{ id: 'host-proc-mounted', severity: 'critical' }],
      refuses: true,
    },
    {
      name: '-v /:/host:ro',
      flags: (r) => [...r, '--volume', '/:/host:ro'],
      expect: [{ id: 'host-filesystem-mounted', severity: 'critical' }],
      refuses: true,
    },
    {
      name: '--network host',
      flags: (r) => [...r, '--network', 'host'],
      network: 'host',
      expect: [{ id: 'host-network-namespace', severity: 'warn' }],
      refuses: false,
    },
    {
      name: 'service-account token mounted',
      flags: (r) => [...r, '--volume', `${token}:/var/run/secrets/kubernetes.io/serviceaccount/token:ro`],
      expect: [{ id: 'service-account-token', severity: 'warn' }],
      refuses: false,
    },
  ];
}

async function listenUnix(path: string, group: number, mode: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  chownSync(path, 0, group);
  chmodSync(path, mode);
  return server;
}

interface Report {
  ok: boolean;
  posture: { findings: { id: string; severity: string; message: string }[] };
}

t.test('escape paths in a real container', { skip }, async (t) => {
  const { tag } = await ensureShippedImage();
  const dir = makeTmpDir('mtls-escape-');
  chmodSync(dir, 0o755);
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'Escape Test CA');
  const server = makeLeaf(dir, 'server', ca, { san: ['DNS:localhost', 'IP:127.0.0.1'], eku: 'serverAuth' });
  const restricted = kubernetesSettings(makeSecretDir(dir, server, ca).dir);
  const proxyArgs = restricted.args[0] === 'run' ? restricted.args.slice(1) : restricted.args;
  const reachable = await listenUnix(join(dir, 'docker.sock'), SOCKET_GROUP, 0o660);
  mkdirSync(join(dir, 'closed'), { mode: 0o755 });
  const closed = await listenUnix(join(dir, 'closed/docker.sock'), 0, 0o600);
  t.teardown(() => {
    reachable.close();
    closed.close();
  });
  const token = join(dir, 'token');
  writeFileSync(token, 'not-a-real-token', { mode: 0o644 });

  for (const c of cases({ reachable: join(dir, 'docker.sock'), closed: join(dir, 'closed/docker.sock') }, token)) {
    t.test(c.name, async (t) => {
      const flags = c.flags(restricted.flags);
      const check = await runOnce(tag, flags, ['check', '--json', ...proxyArgs], c.network !== 'host');
      const report = JSON.parse(check.stdout || '{}') as Report;
      t.equal(check.status, c.refuses ? 1 : 0, `check exits ${c.refuses ? 1 : 0}: ${check.stderr.slice(-500)}`);
      t.equal(report.ok, !c.refuses, c.refuses ? 'check says run would not start' : 'check says run would start');
      for (const want of c.expect) {
        const found = report.posture?.findings.find((f) => f.id === want.id);
        t.equal(found?.severity, want.severity, `${want.id} is ${want.severity}: ${found?.message ?? 'missing'}`);
      }
      t.comment(`findings: ${(report.posture?.findings ?? []).map((f) => `${f.severity} ${f.id}`).join('; ')}`);
      if (!c.refuses) return;
      const run = await runOnce(tag, flags, ['run', ...proxyArgs], c.network !== 'host');
      t.equal(run.status, 78, 'run refuses with exit 78');
      const critical = c.expect.find((e) => e.severity === 'critical');
      t.match(run.stderr, `posture ${critical?.id ?? ''}:`, 'and names the critical finding');
    });
  }
});
