// The shipped image, built from the unchanged Dockerfile, run by a real OCI runtime with exactly the security settings
// of deploy/kubernetes and deploy/compose (read from the manifests): proven from the host and from inside the
// container.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import {
  hostViewOfRootMount,
  hostViewOfStatus,
  INSIDE_SCRIPT,
  startProxy,
  type RunningProxy,
} from './lib/container-run.js';
import { ensureShippedImage } from './lib/image.js';
import { composeSettings, envFlags, kubernetesSettings } from './lib/manifest-settings.js';
import { makeSecretDir } from './lib/secret-dir.js';
import { REPO_ROOT } from './lib/paths.js';
import { podmanSkipReason } from './lib/podman.js';

const skip = podmanSkipReason();
t.setTimeout(10 * 60_000);

interface CheckReport {
  ok: boolean;
  posture: { findings: { id: string; severity: string }[] };
}

/** What every restricted run must show, from the host's view and the process's own. */
async function proveContained(
  t: Test,
  proxy: RunningProxy,
  keyPath: string,
  checkArgs: string[],
  documentedWarns: string[],
): Promise<void> {
  const outside = hostViewOfStatus(proxy.pid);
  t.match(outside.get('Uid'), /^10001\s+10001\s+10001\s+10001$/, 'outside: uid 10001 (real, effective, saved, fs)');
  t.match(outside.get('Gid'), /^10001\s+10001\s+10001\s+10001$/, 'outside: gid 10001');
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
    t.equal(outside.get(set), '0000000000000000', `outside: ${set} empty`);
  t.equal(outside.get('NoNewPrivs'), '1', 'outside: NoNewPrivs 1');
  t.equal(outside.get('Seccomp'), '2', 'outside: a seccomp filter (mode 2)');
  t.ok(hostViewOfRootMount(proxy.pid).includes('ro'), 'outside: the container root is mounted ro');

  const inside = await proxy.exec(['/nodejs/bin/node', '-e', INSIDE_SCRIPT, keyPath]);
  t.equal(inside.status, 0, inside.stderr);
  const seen = JSON.parse(inside.stdout) as {
    status: Record<string, string>;
    rootWrite: string;
    keyRead: string;
    uid: number;
    gid: number;
  };
  t.equal(seen.uid, 10001, 'inside: uid 10001');
  t.equal(seen.gid, 10001, 'inside: gid 10001');
  t.equal(seen.status['CapEff'], '0000000000000000', 'inside: PID 1 has no effective capability');
  t.equal(seen.status['NoNewPrivs'], '1');
  t.equal(seen.status['Seccomp'], '2');
  t.equal(seen.rootWrite, 'EROFS', 'inside: writing under /app fails with EROFS');
  t.equal(seen.keyRead, 'read', 'inside: the proxy user can read its key');

  const check = await proxy.exec(['/nodejs/bin/node', '/app/dist/main.js', 'check', '--json', ...checkArgs]);
  t.equal(check.status, 0, `check exits 0: ${check.stderr}`);
  const report = JSON.parse(check.stdout || '{}') as CheckReport;
  t.equal(report.ok, true);
  const findings = report.posture.findings;
  t.same(
    findings.filter((f) => f.severity === 'critical'),
    [],
    'no critical posture finding',
  );
  t.same(
    findings
      .filter((f) => f.severity === 'warn')
      .map((f) => f.id)
      .sort(),
    [...documentedWarns].sort(),
    `only the documented warnings: ${documentedWarns.join(', ')}`,
  );
}

/** curl runs synchronously, so the upstream's report of a request is read after it returns: wait for it, bounded. */
async function receivedPaths(proxy: RunningProxy, count: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  while (proxy.received.length < count && Date.now() < deadline) await sleep(50);
  return proxy.received.map((r) => r.path);
}

async function proveMtls(t: Test, proxy: RunningProxy, ca: string, client: CertFiles, rogue: CertFiles): Promise<void> {
  const call = (path: string, extra: string[]): ReturnType<RunningProxy['curl']> =>
    proxy.curl(['--cacert', ca, ...extra, `https://127.0.0.1:8443${path}`]);
  const admitted = call('/orders', ['--cert', client.cert, '--key', client.key]);
  t.equal(admitted.code, '200', `an mTLS request is admitted: ${admitted.stderr}`);
  t.same(await receivedPaths(proxy, 1), ['/orders'], 'the upstream saw that request');
  t.equal(
    proxy.received[0]?.headers['x-client-uri'],
    'spiffe://example.org/ns/prod/sa/orders',
    'with the verified identity',
  );
  const refused = call('/from-rogue', ['--cert', rogue.cert, '--key', rogue.key]);
  t.not(refused.status, 0, 'a client of another CA is refused at the handshake');
  t.equal(refused.code, '000', 'no HTTP answer for it');
  const bare = call('/from-nobody', []);
  t.not(bare.status, 0, 'a client without a certificate is refused');
  // A last admitted request marks the end: whatever the upstream saw before it is in order on one connection log.
  t.equal(call('/after', ['--cert', client.cert, '--key', client.key]).code, '200');
  t.same(await receivedPaths(proxy, 2), ['/orders', '/after'], 'the upstream saw nothing of the refused clients');
}

t.test('the shipped image under the shipped settings', { skip }, async (t) => {
  const { tag } = await ensureShippedImage();
  const dir = makeTmpDir('mtls-container-');
  chmodSync(dir, 0o755);
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'Container Test CA');
  const server = makeLeaf(dir, 'server', ca, { san: ['DNS:localhost', 'IP:127.0.0.1'], eku: 'serverAuth' });
  const client = makeLeaf(dir, 'orders', ca, { san: ['URI:spiffe://example.org/ns/prod/sa/orders'] });
  const rogueCa = makeCa(dir, 'Rogue CA');
  const rogue = makeLeaf(dir, 'rogue', rogueCa, { san: ['URI:spiffe://example.org/ns/prod/sa/orders'] });

  t.test('deploy/kubernetes: the Deployment security contexts and a Secret laid out as the kubelet does', async (t) => {
    const secret = makeSecretDir(dir, server, ca);
    const settings = kubernetesSettings(secret.dir);
    const proxy = await startProxy(tag, 'k8s', settings.flags, settings.args, 8080);
    t.teardown(proxy.stop);
    const checkArgs = settings.args[0] === 'run' ? settings.args.slice(1) : settings.args;
    // The Secret's 0440 key is group-readable by fsGroup on purpose (README, Kubernetes sidecar).
    await proveContained(t, proxy, `${secret.mountPath}/tls.key`, checkArgs, ['private-key-permissions']);
    await proveMtls(t, proxy, ca.cert, client, rogue);
  });

  t.test('deploy/compose: the service settings and the certificate directory made as the README says', async (t) => {
    const certs = join(dir, 'compose-certs');
    execFileSync(process.execPath, [
      join(REPO_ROOT, 'dist/main.js'),
      'certs',
      'init',
      certs,
      '--client',
      'orders',
      '--uri',
      'spiffe://example.org/ns/prod/sa/orders',
    ]);
    chownSync(join(certs, 'server.key'), 10001, 10001);
    const settings = composeSettings(certs);
    // The compose upstream is the `api` service; here it is a recording server on loopback under that name.
    const proxy = await startProxy(
      tag,
      'compose',
      [...settings.flags, ...envFlags(settings.env), '--add-host', 'api:127.0.0.1'],
      settings.args,
      8080,
    );
    t.teardown(proxy.stop);
    // http://api:8080 is plain HTTP to a name: acceptable only because compose's backend network is internal.
    await proveContained(t, proxy, '/certs/server.key', [], ['plaintext-upstream']);
    await proveMtls(
      t,
      proxy,
      join(certs, 'ca.crt'),
      { ...client, cert: join(certs, 'orders.crt'), key: join(certs, 'orders.key') },
      rogue,
    );
  });
});
