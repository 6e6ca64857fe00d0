// Route selection: segment-respecting prefixes, raw "*" prefixes, method filters (HEAD follows GET), first match
// decides.
import t from 'tap';
import { parsePolicyFile } from '../../../src/authz/policy-file.js';
import { compilePolicy } from '../../../src/authz/route-policy.js';
import { makeIdentity } from './identity-fixture.js';

const policy = compilePolicy(
  parsePolicyFile(
    `
routes:
  - path: /admin
    methods: [GET, POST]
    allow: [{ cn: ops }]
  - path: /admin
    allow: []
  - path: /files/
    allow: [{ cn: files }]
  - path: /api*
    allow: [{ cn: api }]
  - path: /Public
    allow: any-verified
default:
  allow: [{ cn: orders }]
`,
    'p.yaml',
  ),
  null,
  'p.yaml',
);

const cases: [method: string, path: string, route: string][] = [
  ['GET', '/admin', 'routes[0] /admin'],
  ['GET', '/admin/', 'routes[0] /admin'],
  ['GET', '/admin/x/y', 'routes[0] /admin'],
  ['POST', '/admin/x', 'routes[0] /admin'],
  ['HEAD', '/admin', 'routes[0] /admin'],
  ['get', '/admin', 'routes[0] /admin'],
  ['DELETE', '/admin', 'routes[1] /admin'],
  ['OPTIONS', '/admin/x', 'routes[1] /admin'],
  ['GET', '/administrator', 'default'],
  ['GET', '/admin.html', 'default'],
  ['GET', '/ADMIN', 'default'],
  ['GET', '/x/admin', 'default'],
  ['GET', '/files/', 'routes[2] /files/'],
  ['GET', '/files/a', 'routes[2] /files/'],
  ['GET', '/files', 'default'],
  ['GET', '/filesystem', 'default'],
  ['GET', '/api', 'routes[3] /api*'],
  ['GET', '/api/v1', 'routes[3] /api*'],
  ['GET', '/apix', 'routes[3] /api*'],
  ['GET', '/ap', 'default'],
  ['GET', '/Public', 'routes[4] /Public'],
  ['GET', '/public', 'default'],
  ['GET', '/', 'default'],
];

for (const [method, path, route] of cases) {
  t.equal(policy.decide(method, path, makeIdentity()).route, route, `${method} ${path} → ${route}`);
}

t.test('the first matching route decides even when it refuses', async (t) => {
  const ops = makeIdentity({ commonNames: ['ops'] });
  t.same(policy.decide('GET', '/admin/x', ops), { allowed: true, route: 'routes[0] /admin', rule: 'cn=ops' });
  t.same(policy.decide('DELETE', '/admin/x', ops), {
    allowed: false,
    route: 'routes[1] /admin',
    rule: null,
    refusal: 'route_allows_nobody',
  });
  const orders = makeIdentity({ commonNames: ['orders'] });
  t.same(policy.decide('GET', '/admin', orders), {
    allowed: false,
    route: 'routes[0] /admin',
    rule: null,
    refusal: 'no_rule_matched',
  });
  t.same(policy.decide('GET', '/orders/1', orders), { allowed: true, route: 'default', rule: 'cn=orders' });
  t.same(policy.decide('GET', '/Public', orders), { allowed: true, route: 'routes[4] /Public', rule: 'any-verified' });
});

t.test('a route "/" matches every path', async (t) => {
  const p = compilePolicy({ routes: [{ path: '/', allow: 'any-verified' }] }, null);
  for (const path of ['/', '/a', '/a/b/']) t.equal(p.decide('GET', path, makeIdentity()).route, 'routes[0] /');
});

t.test('describe lists routes in order and the default, with rule labels only', async (t) => {
  t.same(policy.describe(), [
    'routes[0] /admin [GET, POST]: cn=ops',
    'routes[1] /admin: nobody (empty allow list)',
    'routes[2] /files/: cn=files',
    'routes[3] /api*: cn=api',
    'routes[4] /Public: any-verified',
    'default: cn=orders',
    'paths also judged as: format suffixes (/x.json is also /x), ASCII case (/X is also /x), a trailing slash (/x is also /x/)',
  ]);
});
