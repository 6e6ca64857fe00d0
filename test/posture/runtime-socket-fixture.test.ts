// A listening unix socket at a runtime-socket path under fsRoot is a critical finding; other files are not.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { evaluatePosture } from '../../src/posture/findings.js';
import { probePosture } from '../../src/posture/probe.js';
import { makeFsRoot } from './helpers/fixtures.js';

async function listenUnix(t: { teardown(fn: () => unknown): void }, path: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

t.test('docker.sock in /run, seen through the /var/run link once', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  mkdirSync(join(fs.fsRoot, 'run'));
  mkdirSync(join(fs.fsRoot, 'var'));
  symlinkSync('../run', join(fs.fsRoot, 'var/run'));
  await listenUnix(t, join(fs.fsRoot, 'run/docker.sock'));
  const facts = probePosture({ keyFiles: [] }, { procRoot: '/proc', fsRoot: fs.fsRoot });
  t.same(facts.runtimeSockets, ['/var/run/docker.sock']);
  const finding = evaluatePosture(facts).find((f) => f.id === 'runtime-socket');
  t.equal(finding?.severity, 'critical');
  t.match(finding?.message, '/var/run/docker.sock');
  t.match(finding?.remediation, 'docker.sock');
});

t.test('containerd, crio and podman sockets', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  for (const dir of ['containerd', 'crio', 'podman']) mkdirSync(join(fs.fsRoot, 'run', dir), { recursive: true });
  await listenUnix(t, join(fs.fsRoot, 'run/containerd/containerd.sock'));
  await listenUnix(t, join(fs.fsRoot, 'run/crio/crio.sock'));
  await listenUnix(t, join(fs.fsRoot, 'run/podman/podman.sock'));
  const facts = probePosture({ keyFiles: [] }, { fsRoot: fs.fsRoot });
  t.same(facts.runtimeSockets, ['/run/containerd/containerd.sock', '/run/crio/crio.sock', '/run/podman/podman.sock']);
});

t.test('a regular file or directory at a socket path is not a socket', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  mkdirSync(join(fs.fsRoot, 'run/docker.sock'), { recursive: true });
  mkdirSync(join(fs.fsRoot, 'run/crio'), { recursive: true });
  writeFileSync(join(fs.fsRoot, 'run/crio/crio.sock'), '');
  const facts = probePosture({ keyFiles: [] }, { fsRoot: fs.fsRoot });
  t.same(facts.runtimeSockets, []);
  t.same(
    facts.unreadable.filter((u) => u.what.includes('.sock')),
    [],
  );
  t.notOk(evaluatePosture(facts).some((f) => f.id === 'runtime-socket'));
});
