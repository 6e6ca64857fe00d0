// Route methods: a GET-only route refuses POST from the same caller (with a closing route for the path), HEAD follows
// GET, unmatched methods fall through.
import t from 'tap';
import { startPolicyRig } from './lib/policy-proxy.js';

const POLICY = `routes:
  - path: /reports
    methods: [GET]
    allow:
      - uri: spiffe://example.org/ns/prod/*
  # Every other method on /reports: nobody. Without this route they would fall through to the default.
  - path: /reports
    allow: []
  - path: /jobs
    methods: [post]
    allow:
      - uri: spiffe://example.org/ns/ops/*
default:
  allow:
    - uri: spiffe://example.org/ns/prod/*
`;

const request = (method: string, path: string): string =>
  `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${method === 'POST' || method === 'PUT' ? 'Content-Length: 2\r\n\r\n{}' : '\r\n'}`;

t.test('methods narrow a route', async (t) => {
  const rig = await startPolicyRig(POLICY);
  t.teardown(() => rig.close());
  const status = async (method: string, path: string, caller = rig.orders): Promise<number> =>
    (await rig.send(caller, request(method, path))).status;

  t.equal(await status('GET', '/reports/q1'), 200, 'GET admitted by the GET route');
  t.equal(
    await status('HEAD', '/reports/q1'),
    200,
    'HEAD is judged like GET (upstream frameworks run the GET handler)',
  );
  t.equal(await status('POST', '/reports/q1'), 403, 'POST from the same caller refused');
  t.equal(await status('PUT', '/reports'), 403);
  t.equal(await status('DELETE', '/reports'), 403);
  t.equal(
    await status('get', '/reports'),
    400,
    'a lower-case method is not GET (RFC 9110 methods are case-sensitive); the HTTP parser refuses it',
  );
  t.same(
    rig.upstream.received.map((r) => `${r.method} ${r.url}`),
    ['GET /reports/q1', 'HEAD /reports/q1'],
  );

  // /jobs only names POST: other methods fall through to the default, which admits the prod workload.
  t.equal(await status('POST', '/jobs'), 403, 'POST /jobs needs ops');
  t.equal(
    await status('POST', '/jobs', rig.ops),
    200,
    'ops may POST /jobs (methods compare case-insensitively in the file)',
  );
  t.equal(await status('GET', '/jobs'), 200, 'GET /jobs falls through to the default');
  t.equal(await status('GET', '/jobs', rig.ops), 403, 'and the default does not admit ops');
  const access = rig.proxy.logLines().filter((l) => l.msg === 'access' && l.status === 403);
  t.ok(access.length >= 5 && access.every((l) => l.decision === 'deny'));
});
