// Where the default comes from: the policy file or the --allow-* flags, never both; nothing at all is refused.
import t from 'tap';
import { compilePolicy } from '../../../src/authz/route-policy.js';
import { ConfigError, EXIT_CONFIG } from '../../../src/errors.js';
import { makeIdentity } from './identity-fixture.js';

const orders = makeIdentity({ commonNames: ['orders'] });
const ops = makeIdentity({ commonNames: ['ops'] });

t.test('a policy default and --allow-* flags together are a configuration error', async (t) => {
  const err = t.throws(() =>
    compilePolicy({ routes: [], default: { allow: [{ cn: 'orders' }] } }, [{ cn: 'ops' }], 'policy.yaml'),
  ) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.exitCode, EXIT_CONFIG);
  t.match(err.problems[0], /policy\.yaml: default: and the --allow-\* flags .* pick one/);
});

t.test('flags alone form the default', async (t) => {
  const p = compilePolicy(null, [{ cn: 'orders' }]);
  t.same(p.decide('GET', '/any', orders), { allowed: true, route: 'default', rule: 'cn=orders' });
  t.same(p.decide('GET', '/any', ops), { allowed: false, route: 'default', rule: null, refusal: 'no_rule_matched' });
  t.same(p.describe(), ['default (from --allow-* flags): cn=orders']);
});

t.test('flags form the default when the policy file has none', async (t) => {
  const p = compilePolicy({ routes: [{ path: '/admin', allow: [{ cn: 'ops' }] }] }, [{ cn: 'orders' }]);
  t.equal(p.decide('GET', '/admin', orders).allowed, false);
  t.equal(p.decide('GET', '/admin', ops).allowed, true);
  t.same(p.decide('GET', '/orders', orders), { allowed: true, route: 'default', rule: 'cn=orders' });
});

t.test('no policy default and no flags: unmatched requests are refused (fail closed)', async (t) => {
  const p = compilePolicy({ routes: [{ path: '/admin', allow: [{ cn: 'ops' }] }] }, null);
  t.same(p.decide('GET', '/other', ops), { allowed: false, route: 'default', rule: null, refusal: 'no_default' });
  t.equal(p.decide('GET', '/admin', ops).allowed, true);
  t.match(p.describe()[1], /^default: nobody/);
});

t.test('no policy and no flags: an empty allowlist is refused', async (t) => {
  const err = t.throws(() => compilePolicy(null, null)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.match(err.problems[0], /no allow rule: .*--allow-any-verified/);
});

t.test('a configuration that admits no one anywhere is refused', async (t) => {
  for (const doc of [{ routes: [] }, { routes: [{ path: '/a', allow: [] }] }, { routes: [], default: { allow: [] } }]) {
    const err = t.throws(() => compilePolicy(doc, null, 'p.yaml')) as ConfigError;
    t.match(err.problems[0], /^p\.yaml: no route and no default admits anyone/);
  }
});

t.test('bad rules from every source are reported together', async (t) => {
  const err = t.throws(() =>
    compilePolicy(
      {
        routes: [
          { path: '/a', allow: [{ fingerprint: 'x' }] },
          { path: '/b', allow: [{ dns: 'a*' }] },
        ],
      },
      [{ uri: 'x' }],
      'p.yaml',
    ),
  ) as ConfigError;
  t.equal(err.problems.length, 3);
  t.match(err.problems[0], /^p\.yaml: routes\[0\]\.allow\[0\]\.fingerprint: /);
  t.match(err.problems[1], /^p\.yaml: routes\[1\]\.allow\[0\]\.dns: /);
  t.match(err.problems[2], /^--allow-uri "x": /);
});
