// /healthz answers while the process runs; /readyz follows the upstream (TCP or unix socket) from a cached
// background check, never one connect per probe; the ops listener answers only GET/HEAD on its three paths.
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { baseConfig, makeTestPki, startTestProxy, type TestProxy } from '../helpers/gate-harness.js';
import { opsGet, waitFor } from './lib/cli-process.js';

/** A bare TCP or unix listener that counts the connections it accepts. */
async function countingListener(
  where: { port: number } | { path: string },
): Promise<{ accepted: () => number; close: () => Promise<void>; port: number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) =>
    'path' in where ? server.listen(where.path, resolve) : server.listen(where.port, '127.0.0.1', resolve),
  );
  const address = server.address();
  return {
    accepted: () => accepted,
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const readyz = async (proxy: TestProxy) => opsGet(proxy.metricsAddress?.port ?? 0, '/readyz');

t.test('TCP upstream', async (t) => {
  const pki = makeTestPki();
  let upstream = await countingListener({ port: 0 });
  const port = upstream.port;
  const proxy = await startTestProxy(
    baseConfig(pki, `http://127.0.0.1:${port}`, { metricsListen: { host: '127.0.0.1', port: 0 } }),
  );
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const ops = proxy.metricsAddress?.port ?? 0;
  t.equal((await opsGet(ops, '/healthz')).status, 200);
  t.ok(await waitFor(async () => (await readyz(proxy)).status === 200, 3000), 'ready once the upstream answered');

  const before = upstream.accepted();
  const answers = await Promise.all(Array.from({ length: 50 }, () => readyz(proxy)));
  t.ok(answers.every((a) => a.status === 200));
  t.ok(
    upstream.accepted() - before <= 1,
    `50 probes caused ${upstream.accepted() - before} upstream connects (cached check)`,
  );

  await upstream.close();
  t.ok(await waitFor(async () => (await readyz(proxy)).status === 503, 5000), '503 once the upstream stops answering');
  t.match((await readyz(proxy)).body, /upstream not reachable/);
  t.equal((await opsGet(ops, '/healthz')).status, 200, 'liveness does not depend on the upstream');
  upstream = await countingListener({ port });
  t.ok(await waitFor(async () => (await readyz(proxy)).status === 200, 5000), 'ready again when the upstream is back');

  t.equal((await opsGet(ops, '/readyz', 'HEAD')).status, 200);
  t.equal((await opsGet(ops, '/readyz?verbose')).status, 200, 'a query string does not change the answer');
  t.equal((await opsGet(ops, '/readyz', 'POST')).status, 405);
  t.equal((await opsGet(ops, '/nope')).status, 404);
  t.match((await opsGet(ops, '/metrics')).body, /^# HELP mtls_sidecar_/m);
});

t.test('unix socket upstream', async (t) => {
  const pki = makeTestPki();
  const path = join(pki.dir, 'upstream.sock');
  const upstream = await countingListener({ path });
  const base = baseConfig(pki, 'http://127.0.0.1:1', { metricsListen: { host: '127.0.0.1', port: 0 } });
  const config: Config = { ...base, upstream: { kind: 'unix', socketPath: path, origin: 'http://localhost' } };
  const proxy = await startTestProxy(config);
  t.teardown(async () => {
    await proxy.close(100);
    pki.cleanup();
  });
  t.ok(await waitFor(async () => (await readyz(proxy)).status === 200, 3000), 'ready: the unix socket accepts');
  t.ok(upstream.accepted() >= 1, 'checked with a unix socket connect');
  await upstream.close();
  t.ok(await waitFor(async () => (await readyz(proxy)).status === 503, 5000), '503 once the socket is gone');
});

t.test('a busy --metrics-listen port is a configuration error naming the flag', async (t) => {
  const pki = makeTestPki();
  const busy = await countingListener({ port: 0 });
  t.teardown(async () => {
    await busy.close();
    pki.cleanup();
  });
  const err = await startTestProxy(
    baseConfig(pki, 'http://127.0.0.1:1', { metricsListen: { host: '127.0.0.1', port: busy.port } }),
  ).then(
    async (p) => (await p.close(0), null),
    (e: unknown) => e,
  );
  t.ok(err instanceof ConfigError);
  t.match((err as ConfigError).problems.join('\n'), /--metrics-listen 127\.0\.0\.1:\d+: cannot listen \(EADDRINUSE\)/);
});
