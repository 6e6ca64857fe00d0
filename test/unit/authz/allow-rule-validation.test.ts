// Bad allow rules are refused at compile time with one problem per rule, each naming where it came from.
import t from 'tap';
import { allowSpecFromFlags, compileAllowRules, FLAGS_WHERE, type AllowRule } from '../../../src/authz/allow-rules.js';
import type { AllowFlags } from '../../../src/config/types.js';
import { ConfigError, EXIT_CONFIG } from '../../../src/errors.js';

const bad: [rule: AllowRule, problem: RegExp][] = [
  [{ cn: '' }, /cn: is empty/],
  [{ cn: ' orders' }, /whitespace/],
  [{ cn: 'a\nb' }, /control character/],
  [{ cn: 42 as unknown as string }, /must be a string, got number \(quote it\)/],
  [{ dns: '*' }, /dns: "\*" is only allowed/],
  [{ dns: 'a*.example.org' }, /"\*" is only allowed as the whole first label/],
  [{ dns: 'foo.*.example.org' }, /"\*" is only allowed/],
  [{ dns: '*.*.example.org' }, /"\*" is only allowed/],
  [{ dns: 'bad..example.org' }, /not a DNS name/],
  [{ dns: 'exa mple.org' }, /not a DNS name/],
  [{ uri: 'spiffe://example.org/ns/*/sa' }, /only allowed as a final "\/\*"/],
  [{ uri: 'spiffe://example.org/ns/prod*' }, /only allowed as a final "\/\*"/],
  [{ uri: '/*' }, /not an absolute URI/],
  [{ uri: 'spiffe://example.org/ns/../*' }, /"\.\." or empty segments|\.\./],
  [{ uri: 'no-scheme' }, /not an absolute URI/],
  [{ fingerprint: 'abcd' }, /not a SHA-256 fingerprint/],
  [{ fingerprint: 'g'.repeat(64) }, /not a SHA-256 fingerprint/],
  [{ fingerprint: 'sha1:' + 'a'.repeat(64) }, /not a SHA-256 fingerprint/],
  [{ serial: 'xyz' }, /not a hex serial/],
  [{ serial: '0x1F' }, /not a hex serial/],
  [{ subject: 'CN' }, /no "="/],
  [{ subject: 'CNN=orders' }, /unknown attribute type "CNN"/],
  [{ subject: 'CN=a;O=b' }, /unescaped ";"/],
  [{ subject: 'CN=a,' }, /dangling ","/],
  [{ subject: 'CN=a\\' }, /dangling "\\"/],
  [{ subject: 'CN=\\zz' }, /invalid escape/],
  [{ subject: 'CN=\\C3' }, /not valid UTF-8/],
  [{ subject: 'CN=#0201FF' }, /not a DER string/],
  [{ cnn: 'orders' } as AllowRule, /cnn: unknown rule key/],
  [{}, /rule has no keys/],
];

for (const [rule, problem] of bad) {
  t.test(`refuses ${JSON.stringify(rule)}`, async (t) => {
    const err = t.throws(() => compileAllowRules([rule], 'policy.yaml: routes[0].allow'));
    t.ok(err instanceof ConfigError);
    t.equal((err as ConfigError).exitCode, EXIT_CONFIG);
    const problems = (err as ConfigError).problems;
    t.equal(problems.length, 1, problems.join('\n'));
    t.match(problems[0], /^policy\.yaml: routes\[0\]\.allow\[0\]/);
    t.match(problems[0], problem);
  });
}

t.test('every problem is reported at once, flag-style when compiled from flags', async (t) => {
  const err = t.throws(() =>
    compileAllowRules([{ uri: 'x' }, { cn: 'ok' }, { fingerprint: 'zz' }], FLAGS_WHERE),
  ) as ConfigError;
  t.same(err.problems.length, 2);
  t.match(err.problems[0], /^--allow-uri "x": /);
  t.match(err.problems[1], /^--allow-fingerprint "zz": /);
});

const noFlags: AllowFlags = {
  cn: [],
  ou: [],
  o: [],
  dns: [],
  uri: [],
  email: [],
  serial: [],
  fingerprint: [],
  subject: [],
};

t.test('allowSpecFromFlags', async (t) => {
  t.equal(allowSpecFromFlags(noFlags, false), null, 'no flag → null');
  t.equal(allowSpecFromFlags(noFlags, true), 'any-verified');
  t.same(allowSpecFromFlags({ ...noFlags, cn: ['a', 'b'], uri: ['spiffe://x/*'] }, false), [
    { cn: 'a' },
    { cn: 'b' },
    { uri: 'spiffe://x/*' },
  ]);
  const err = t.throws(() => allowSpecFromFlags({ ...noFlags, cn: ['a'] }, true)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.match(err.problems[0], /--allow-any-verified .* --allow-cn would have no effect/);
});
