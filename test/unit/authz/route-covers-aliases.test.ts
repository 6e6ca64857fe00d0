// A route covers the spellings upstream routers send to its handler (/admin.json, /ADMIN), for every method it
// lists; judging those readings can only refuse more than judging the literal path, never admit more.
import t from 'tap';
import { parsePolicyFile } from '../../../src/authz/policy-file.js';
import { compilePolicy } from '../../../src/authz/route-policy.js';
import { ConfigError } from '../../../src/errors.js';
import { makeIdentity } from './identity-fixture.js';

const POLICY = `
routes:
  - path: /admin
    allow: [{ cn: ops }]
  - path: /orders
    methods: [DELETE]
    allow: [{ cn: ops }]
  - path: /Reports
    allow: [{ cn: auditor }]
  - path: /public
    allow: any-verified
  - path: /users/
    allow: [{ cn: ops }]
default:
  allow: [{ cn: orders }]
`;
const ops = makeIdentity({ commonNames: ['ops'] });
const orders = makeIdentity({ commonNames: ['orders'] });
const auditor = makeIdentity({ commonNames: ['auditor'] });
const policy = compilePolicy(parsePolicyFile(POLICY, 'p.yaml'), null, 'p.yaml');

// [method, path, refused for orders by]
const refused: Array<[string, string, string]> = [
  ['GET', '/admin.json', 'routes[0] /admin'],
  ['POST', '/admin.json/', 'routes[0] /admin'],
  ['DELETE', '/admin.xml', 'routes[0] /admin'],
  ['GET', '/admin.', 'routes[0] /admin'],
  ['GET', '/admin.tar.gz', 'routes[0] /admin'],
  ['GET', '/ADMIN', 'routes[0] /admin'],
  ['GET', '/Admin.Json', 'routes[0] /admin'],
  ['GET', '/admin/x.json', 'routes[0] /admin'],
  ['DELETE', '/orders.json', 'routes[1] /orders'],
  ['DELETE', '/ORDERS/1', 'routes[1] /orders'],
  ['GET', '/reports', 'routes[2] /Reports'],
  ['GET', '/REPORTS.csv', 'routes[2] /Reports'],
  // Django REST framework serves /users.json from the `users/` pattern.
  ['GET', '/users.json', 'routes[4] /users/'],
];
for (const [method, path, route] of refused) {
  t.same(
    policy.decide(method, path, orders),
    { allowed: false, route, rule: null, refusal: 'no_rule_matched' },
    `${method} ${path}: refused by ${route}`,
  );
}

t.test('the identities a route admits still reach every spelling of it', async (t) => {
  t.same(
    policy.decide('GET', '/admin.json', ops),
    { allowed: false, route: 'default', rule: null, refusal: 'no_rule_matched' },
    'ops is not in the default',
  );
  const opsEverywhere = compilePolicy(
    parsePolicyFile(`${POLICY.replace('[{ cn: orders }]', '[{ cn: orders }, { cn: ops }]')}`, 'p.yaml'),
    null,
  );
  t.same(opsEverywhere.decide('GET', '/admin.json', ops), { allowed: true, route: 'default', rule: 'cn=ops' });
  t.same(opsEverywhere.decide('DELETE', '/orders.json', ops), { allowed: true, route: 'default', rule: 'cn=ops' });
  t.same(policy.decide('GET', '/Reports', auditor), { allowed: true, route: 'routes[2] /Reports', rule: 'cn=auditor' });
  t.same(
    policy.decide('GET', '/reports', auditor),
    { allowed: false, route: 'default', rule: null, refusal: 'no_rule_matched' },
    'the literal path is judged too',
  );
});

t.test('other methods and other paths are untouched', async (t) => {
  t.same(policy.decide('GET', '/orders.json', orders), { allowed: true, route: 'default', rule: 'cn=orders' });
  t.same(policy.decide('GET', '/administrator.json', orders), { allowed: true, route: 'default', rule: 'cn=orders' });
  t.same(
    policy.decide('GET', '/admin.json/x', orders),
    { allowed: true, route: 'default', rule: 'cn=orders' },
    'no router takes a suffix from an inner segment',
  );
  t.same(
    policy.decide('GET', '/public.json', orders),
    { allowed: true, route: 'default', rule: 'cn=orders' },
    'the literal decision is reported',
  );
});

t.test('a permissive route never widens through an alias', async (t) => {
  const nobody = makeIdentity({ commonNames: ['nobody'] });
  for (const path of ['/public.json', '/PUBLIC', '/Public.txt']) {
    t.equal(
      policy.decide('GET', path, nobody).allowed,
      false,
      `${path}: the default still decides for a caller it refuses`,
    );
  }
  t.equal(policy.decide('GET', '/public', nobody).allowed, true);
});

t.test('never admits more than the literal path would (random paths, identities and methods)', async (t) => {
  const literalOnly = compilePolicy(
    parsePolicyFile(
      `${POLICY}aliases: { format-suffix: false, ignore-case: false, trailing-slash: false }\n`,
      'p.yaml',
    ),
    null,
  );
  const pieces = ['admin', 'Admin', 'orders', 'Reports', 'public', 'x', '.json', '.', 'ADMIN', '/', '.tar'];
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    let path = '/';
    for (let j = rand(4) + 1; j > 0; j--) path += pieces[rand(pieces.length)];
    const id = [ops, orders, auditor][rand(3)]!;
    const method = ['GET', 'POST', 'DELETE'][rand(3)]!;
    if (policy.decide(method, path, id).allowed && !literalOnly.decide(method, path, id).allowed)
      t.fail(`${method} ${path} admitted only with aliases`);
    checked++;
  }
  t.equal(checked, 3000);
});

t.test('aliases can be switched off per family; bad values are configuration errors', async (t) => {
  const off = compilePolicy(parsePolicyFile(`${POLICY}aliases: { format-suffix: false }\n`, 'p.yaml'), null);
  t.equal(off.decide('GET', '/admin.json', orders).allowed, true, 'format suffixes off');
  t.equal(off.decide('GET', '/ADMIN', orders).allowed, false, 'case still folded');
  t.match(off.describe().at(-1), /ASCII case/);
  const err = t.throws(() =>
    parsePolicyFile(`${POLICY}aliases: { ignore-case: yes please, suffix: true }\n`, 'p.yaml'),
  ) as ConfigError;
  t.same(err.problems, [
    'p.yaml: aliases.suffix: unknown key (allowed here: format-suffix, ignore-case, trailing-slash)',
    'p.yaml: aliases.ignore-case: must be true or false, got string "yes please"',
  ]);
  const notMap = t.throws(() => parsePolicyFile(`${POLICY}aliases: true\n`, 'p.yaml')) as ConfigError;
  t.match(notMap.problems[0], /^p\.yaml: aliases: must be a mapping/);
});

t.test(
  'a route written with a trailing slash also covers the path without it (Express, ASP.NET serve /x from /x/)',
  async (t) => {
    for (const path of ['/users', '/USERS', '/users.json', '/Users']) {
      t.same(
        policy.decide('GET', path, orders),
        { allowed: false, route: 'routes[4] /users/', rule: null, refusal: 'no_rule_matched' },
        `${path}: refused by /users/`,
      );
    }
    t.equal(policy.decide('GET', '/users/', ops).allowed, true, "the route's own caller still gets in");
    t.equal(policy.decide('GET', '/usersx', orders).allowed, true, 'another name is not covered');
    const off = compilePolicy(
      parsePolicyFile(
        `${POLICY}aliases: { trailing-slash: false, format-suffix: false, ignore-case: false }\n`,
        'p.yaml',
      ),
      null,
    );
    t.equal(off.decide('GET', '/users', orders).allowed, true, 'switched off: /users is decided by the default');
    t.match(policy.describe().at(-1), /a trailing slash/);
  },
);
