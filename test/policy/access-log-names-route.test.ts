// The access line names the route that decided each request and, for a policy refusal, a fixed reason why no rule
// matched (never the rules themselves): checked over real TLS with a policy file, the caller being curl.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startPolicyRig } from './lib/policy-proxy.js';

const POLICY = `routes:
  - path: /admin
    allow:
      - uri: spiffe://example.org/ns/ops/sa/console
  - path: /closed
    allow: []
default:
  allow:
    - uri: spiffe://example.org/ns/prod/*
`;

t.test('access lines carry route and refusal reason', async (t) => {
  const rig = await startPolicyRig(POLICY);
  t.teardown(() => rig.close());
  const files = (name: string, pem: { certPem: string; keyPem: string }): [string, string] => {
    const cert = join(rig.pki.dir, `${name}-curl.crt`);
    const key = join(rig.pki.dir, `${name}-curl.key`);
    writeFileSync(cert, pem.certPem);
    writeFileSync(key, pem.keyPem, { mode: 0o600 });
    return [cert, key];
  };
  const caFile = join(rig.pki.dir, 'ca-curl.crt');
  writeFileSync(caFile, rig.pki.ca.certPem);
  const callers = { orders: files('orders', rig.orders), ops: files('ops', rig.ops) };
  // Asynchronous: the proxy runs in this process and must keep answering while curl waits.
  const curl = async (who: keyof typeof callers, path: string): Promise<number> => {
    const [cert, key] = callers[who];
    const { stdout: out } = await promisify(execFile)(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        caFile,
        '--cert',
        cert,
        '--key',
        key,
        '--resolve',
        `localhost:${rig.proxy.port}:127.0.0.1`,
        `https://localhost:${rig.proxy.port}${path}`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    return Number(out);
  };

  t.equal(await curl('ops', '/admin/users'), 200);
  t.equal(await curl('orders', '/admin/users'), 403);
  t.equal(await curl('orders', '/closed'), 403);
  t.equal(await curl('orders', '/items'), 200);
  t.equal(await curl('ops', '/items'), 403);
  t.same(
    rig.upstream.received.map((r) => r.url),
    ['/admin/users', '/items'],
    'the refused requests never reached the upstream',
  );

  const access = rig.proxy.logLines().filter((l) => l.msg === 'access');
  const seen = access.map((l) => [l.path, l.decision, l.route, l.rule, l.reason]);
  t.same(seen, [
    ['/admin/users', 'allow', 'routes[0] /admin', 'uri=spiffe://example.org/ns/ops/sa/console', undefined],
    ['/admin/users', 'deny', 'routes[0] /admin', null, 'no_rule_matched'],
    ['/closed', 'deny', 'routes[1] /closed', null, 'route_allows_nobody'],
    ['/items', 'allow', 'default', 'uri=spiffe://example.org/ns/prod/*', undefined],
    ['/items', 'deny', 'default', null, 'no_rule_matched'],
  ]);
});

t.test('a policy without a default: refusal reason no_default', async (t) => {
  const rig = await startPolicyRig(
    'routes:\n  - path: /admin\n    allow:\n      - uri: spiffe://example.org/ns/ops/sa/console\n',
  );
  t.teardown(() => rig.close());
  const r = await rig.send(rig.orders, 'GET /elsewhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  t.equal(r.status, 403);
  t.equal(rig.upstream.received.length, 0, 'upstream saw nothing');
  const line = rig.proxy.logLines().find((l) => l.msg === 'access');
  t.match(line, { decision: 'deny', route: 'default', rule: null, reason: 'no_default' });
});

t.test('a bad request names no route', async (t) => {
  const rig = await startPolicyRig(POLICY);
  t.teardown(() => rig.close());
  const r = await rig.send(rig.orders, 'GET /a/%2e%2e/admin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  t.equal(r.status, 400);
  const line = rig.proxy.logLines().find((l) => l.msg === 'access');
  t.equal(line?.decision, 'bad_request');
  t.notOk(line && 'route' in line, 'no route field');
});
