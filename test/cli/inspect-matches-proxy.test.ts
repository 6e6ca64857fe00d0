// What `inspect --json` predicts (identity headers, route decisions) is what the running built proxy sends upstream
// and decides for the same certificate.
import { existsSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { spawnChild, startUpstream, stopChild, waitForListening } from '../containment/helpers/sidecar.js';

interface InspectJson {
  headers: Record<string, string>;
  authorization: { routes: { route: string; admitted: boolean }[] };
}

const POLICY = `
routes:
  - path: /admin
    allow:
      - uri: spiffe://example.org/ns/ops/sa/console
  - path: /orders
    allow:
      - { cn: "orders \\"eu\\"", o: "Acme, Inc." }
default:
  allow:
    - dns: "*.example.org"
`;

function get(port: string | number, path: string, ca: CertFiles, client: CertFiles): Promise<number> {
  return new Promise((ok, fail) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ca: ca.certPem,
        cert: client.certPem,
        key: client.keyPem,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end();
  });
}

t.test('inspect agrees with the proxy', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-inspect-proxy-');
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    removeDir(dir);
  });
  const ca = makeCa(dir, 'ca', { subject: '/O=Acme, Inc./CN=Clients CA' });
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const client = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme, Inc./OU=Zoë;x=1/CN=orders "eu"',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders', 'DNS:orders.example.org', 'DNS:alt.example.org'],
  });
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY);
  const config = [
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    'off',
    '--upstream',
    upstream.url,
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    ca.cert,
    '--policy',
    policy,
    '--forward-cert',
    '--allow-insecure-posture',
  ];

  const inspected = runCli(['inspect', '--json', client.cert, ...config]);
  t.equal(inspected.status, 0, inspected.stderr);
  const predicted = JSON.parse(inspected.stdout) as InspectJson;

  const proxy = spawnChild(process.execPath, [CLI, 'run', ...config], dir);
  t.teardown(() => stopChild(proxy));
  const port = await waitForListening(proxy);

  const decisions: Record<string, { path: string; admitted: boolean }> = {
    'routes[0] /admin': { path: '/admin/x', admitted: false },
    'routes[1] /orders': { path: '/orders/1', admitted: true },
    default: { path: '/elsewhere', admitted: true },
  };
  t.same(
    predicted.authorization.routes.map((r) => [r.route, r.admitted]),
    Object.entries(decisions).map(([route, d]) => [route, d.admitted]),
    'inspect predicts the expected decisions',
  );
  for (const [route, d] of Object.entries(decisions)) {
    const status = await get(port, d.path, ca, client);
    t.equal(status, d.admitted ? 200 : 403, `${route}: the proxy answers ${status} for ${d.path}`);
  }

  const sent = upstream.received.at(-1);
  t.ok(sent, 'the upstream received a request');
  const names = Object.keys(predicted.headers);
  t.ok(names.includes('client-cert'), 'with --forward-cert the prediction includes client-cert');
  for (const name of names) t.equal(sent?.[name], predicted.headers[name], `${name} as predicted`);
});
