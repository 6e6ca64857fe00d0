// End to end against Grape: a route `/admin` for the ops identity also covers every spelling Grape routes to the /admin
// handler (`/admin.json`, `/admin.json/`, `/admin%2Ejson`, `/admin.xml`…), over HTTP/1.1, HTTP/2 and a WebSocket
// handshake. Grape's own record of the requests it saw (asked on its loopback port) is the oracle.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { curl, type CurlResult } from '../protocols/lib/curl.js';
import { findGrapeMissing, getJson, startGrape } from './lib/grape-server.js';
import { pickFreePort } from './lib/net-wait.js';
import { FIXTURES } from './lib/paths.js';
import { sidecarMissing, startSidecar } from './lib/sidecar-process.js';

const OPS = 'spiffe://example.org/ns/ops/sa/console';
const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';

const POLICY = `routes:
  - path: /admin
    allow:
      - uri: ${OPS}
default:
  allow: any-verified
`;

// [as sent, the path Grape receives when the ops caller sends it]
const SPELLINGS: Array<[string, string]> = [
  ['/admin', '/admin'],
  ['/admin.json', '/admin.json'],
  ['/admin.json/', '/admin.json/'],
  ['/admin.json?x=1', '/admin.json'],
  ['/admin%2Ejson', '/admin.json'],
  ['/admin%2ejson', '/admin.json'],
  ['/admin.j%73on', '/admin.json'],
  ['/admin.xml', '/admin.xml'],
  ['/admin.txt', '/admin.txt'],
];

type Transport = 'HTTP/1.1' | 'HTTP/2' | 'WebSocket';
const WEBSOCKET_HEADERS = [
  'Connection: Upgrade',
  'Upgrade: websocket',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
];

interface Attempt {
  transport: Transport;
  method: string;
  path: string;
  forwarded: string;
}

const ATTEMPTS: Attempt[] = SPELLINGS.flatMap(([path, forwarded]) => [
  ...(['GET', 'POST', 'DELETE'] as const).flatMap((method) => [
    { transport: 'HTTP/1.1' as const, method, path, forwarded },
    { transport: 'HTTP/2' as const, method, path, forwarded },
  ]),
  { transport: 'WebSocket' as const, method: 'GET', path, forwarded },
]);

const skip = sidecarMissing() || (findGrapeMissing() ?? false);

/** Runs `fn` over `items` with at most `limit` in flight (each attempt is a curl process; the machine is shared). */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

t.test('format suffixes of a protected route against Grape', { skip }, async (t) => {
  const dir = makeTmpDir('grape-suffix-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'suffix-ca');
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const ops = makeLeaf(dir, 'ops', ca, { subject: '/O=Example Org/CN=console', san: [`URI:${OPS}`] });
  const orders = makeLeaf(dir, 'orders', ca, { subject: '/O=Example Org/CN=orders', san: [`URI:${ORDERS}`] });
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);

  const grape = await startGrape(await pickFreePort(), join(FIXTURES, 'grape-admin'));
  t.teardown(grape.stop);
  const seen = async (): Promise<string[]> => (await getJson(grape.port, '/__seen')).body as unknown as string[];

  const port = await pickFreePort();
  const sidecar = await startSidecar(
    [
      'run',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${grape.port}`,
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--client-ca',
      ca.cert,
      '--policy',
      policyFile,
      '--metrics-listen',
      'off',
      '--shutdown-grace',
      '1s',
      '--allow-insecure-posture',
    ],
    {},
    dir,
    { ca, client: orders, port },
  );
  t.teardown(sidecar.stop);

  const send = (client: CertFiles, a: Attempt): Promise<CurlResult> =>
    curl({
      port,
      ca: ca.cert,
      client,
      path: a.path,
      http1: a.transport !== 'HTTP/2',
      headers: a.transport === 'WebSocket' ? WEBSOCKET_HEADERS : [],
      args: a.method === 'GET' ? [] : ['-X', a.method],
    });

  t.test('Grape itself routes every spelling to the /admin handler (the premise)', async (t) => {
    for (const [, forwarded] of SPELLINGS) {
      const r = await getJson(grape.port, forwarded);
      t.equal(r.status, 200, `${forwarded} runs GET /admin in Grape: ${JSON.stringify(r.body)}`);
    }
  });

  t.test('the workload is refused every spelling, and Grape sees none of it', async (t) => {
    const before = await seen();
    const results = await mapLimited(ATTEMPTS, 4, (a) => send(orders, a));
    ATTEMPTS.forEach((a, i) => {
      const r = results[i] as CurlResult;
      t.equal(r.status, 403, `${a.transport} ${a.method} ${a.path}: 403`);
      t.match(r.body, /"error":"forbidden"/, `${a.transport} ${a.method} ${a.path}: the sidecar's body`);
    });
    t.same(await seen(), before, 'Grape received nothing');
  });

  t.test('the ops caller reaches the /admin handler with every spelling', async (t) => {
    const before = (await seen()).length;
    const results = await mapLimited(ATTEMPTS, 4, (a) => send(ops, a));
    ATTEMPTS.forEach((a, i) => {
      const r = results[i] as CurlResult;
      t.ok(r.status === 200 || r.status === 201, `${a.transport} ${a.method} ${a.path}: ${r.status}`);
      t.match(
        r.body,
        new RegExp(`admin.{1,6}${a.method.toLowerCase()}`),
        `${a.transport} ${a.method} ${a.path}: the ${a.method} /admin handler ran`,
      );
    });
    const after = (await seen()).slice(before).sort();
    t.same(
      after,
      ATTEMPTS.map((a) => `${a.method} ${a.forwarded}`).sort(),
      'Grape saw each request once, on the normalized path',
    );
  });
});
