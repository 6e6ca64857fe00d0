// The built sidecar starts with the Deployment's own arguments and with the compose file's own environment,
// answers the probe paths they declare, and applies their allow rule; only ports and file paths are swapped
// for local ones, so a renamed flag or variable in the CLI breaks this test, not a cluster.
import t, { type Test } from 'tap';
import { copyFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { readCompose } from './lib/compose-policy.js';
import { getJson } from './lib/grape-server.js';
import { readYamlDocs } from './lib/k8s-docs.js';
import { pickFreePort } from './lib/net-wait.js';
import { COMPOSE_FILE, K8S_DIR } from './lib/paths.js';
import { sidecarMissing, startSidecar } from './lib/sidecar-process.js';
import { httpsGet, type Caller } from './lib/tls-client.js';

const PROD = 'spiffe://example.org/ns/prod/sa/orders';
const DEV = 'spiffe://example.org/ns/dev/sa/orders';

/** Replaces the value after `--flag`, failing loudly if the manifest no longer has that flag. */
function setFlag(args: string[], flag: string, value: string): void {
  const i = args.indexOf(flag);
  if (i < 0 || i + 1 >= args.length) throw new Error(`the manifest no longer passes ${flag}`);
  args[i + 1] = value;
}

/** Last status seen while polling for 200 (up to 5 s: readiness may wait for its first upstream check). */
async function pollStatus(port: number, path: string): Promise<number | string> {
  let last: number | string = 'no answer';
  for (let i = 0; i < 50; i++) {
    try {
      last = (await getJson(port, path)).status;
      if (last === 200) return last;
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    await sleep(100);
  }
  return last;
}

function echoHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ uri: req.headers['x-client-uri'] ?? null }));
}

t.test('shipped configurations run', { skip: sidecarMissing() }, async (t) => {
  const dir = makeTmpDir('shipped-config-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const prod = makeLeaf(dir, 'prod', ca, { san: [`URI:${PROD}`] });
  const dev = makeLeaf(dir, 'dev', ca, { san: [`URI:${DEV}`] });
  // The files under the names each deployment expects: a cert-manager Secret, and `certs init` output.
  for (const [from, to] of [
    [server.cert, 'tls.crt'],
    [server.key, 'tls.key'],
    [ca.cert, 'ca.crt'],
    [server.cert, 'server.crt'],
    [server.key, 'server.key'],
  ] as const) {
    copyFileSync(from, join(dir, to));
  }

  const upstream = createServer(echoHeaders);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
  const upstreamPort = (upstream.address() as { port: number }).port;

  async function exercise(
    t: Test,
    sidecarPort: number,
    metricsPort: number,
    probes: { live: string; ready: string },
  ): Promise<void> {
    const as = (client: CertFiles): Caller => ({ ca, client, port: sidecarPort });
    t.same(await httpsGet(as(prod), '/anything'), { status: 200, body: { uri: PROD } }, 'the allow rule admits prod');
    const refused = await httpsGet(as(dev), '/anything');
    t.equal(refused.status, 403, 'the allow rule refuses dev');
    t.equal(refused.body.error, 'forbidden');
    for (const path of [probes.live, probes.ready]) {
      t.equal(await pollStatus(metricsPort, path), 200, `probe ${path} on the metrics listener`);
    }
  }

  t.test("the Deployment's sidecar arguments", async (t) => {
    const deployment = readYamlDocs(join(K8S_DIR, 'deployment.yaml')).find(
      (d) => d.kind === 'Deployment',
    ) as Deployment;
    const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'mtls-sidecar') as Container;
    const mount = container.volumeMounts?.find((m) => m.name === 'tls')?.mountPath as string;
    const args = (container.args ?? []).map((a) =>
      a.startsWith(`${mount}/`) ? join(dir, a.slice(mount.length + 1)) : a,
    );
    const [port, metrics] = [await pickFreePort(), await pickFreePort()];
    setFlag(args, '--listen', `127.0.0.1:${port}`);
    setFlag(args, '--metrics-listen', `127.0.0.1:${metrics}`);
    setFlag(args, '--upstream', `http://127.0.0.1:${upstreamPort}`);
    // CI runs as root, which the posture check rightly refuses; that refusal is tested elsewhere.
    const sidecar = await startSidecar([...args, '--allow-insecure-posture'], {}, dir, { ca, client: prod, port });
    t.teardown(sidecar.stop);
    await exercise(t, port, metrics, {
      live: container.livenessProbe?.httpGet?.path as string,
      ready: container.readinessProbe?.httpGet?.path as string,
    });
  });

  t.test("the compose file's sidecar environment, with no arguments (run is the default)", async (t) => {
    const compose = readCompose(COMPOSE_FILE) as {
      services: Record<string, { environment: Record<string, string>; volumes: Array<{ target: string }> }>;
    };
    const service = compose.services['mtls-sidecar'];
    const mount = service?.volumes[0]?.target as string;
    const env = Object.fromEntries(
      Object.entries(service?.environment ?? {}).map(([k, v]) => [
        k,
        String(v).startsWith(`${mount}/`) ? join(dir, String(v).slice(mount.length + 1)) : String(v),
      ]),
    );
    const [port, metrics] = [await pickFreePort(), await pickFreePort()];
    for (const key of ['MTLS_SIDECAR_LISTEN', 'MTLS_SIDECAR_METRICS_LISTEN', 'MTLS_SIDECAR_UPSTREAM']) {
      t.ok(env[key], `compose sets ${key}`);
    }
    env.MTLS_SIDECAR_LISTEN = `127.0.0.1:${port}`;
    env.MTLS_SIDECAR_METRICS_LISTEN = `127.0.0.1:${metrics}`;
    env.MTLS_SIDECAR_UPSTREAM = `http://127.0.0.1:${upstreamPort}`;
    env.MTLS_SIDECAR_ALLOW_INSECURE_POSTURE = 'true';
    const sidecar = await startSidecar([], env, dir, { ca, client: prod, port });
    t.teardown(sidecar.stop);
    await exercise(t, port, metrics, { live: '/healthz', ready: '/readyz' });
  });
});
