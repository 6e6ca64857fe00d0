// CN, OU, O and email rules match exactly (any value of the kind), and every key of one rule must match.
import t from 'tap';
import { compileAllowRules } from '../../../src/authz/allow-rules.js';
import { makeIdentity } from './identity-fixture.js';

const orders = makeIdentity({
  commonNames: ['orders'],
  orgUnits: ['payments', 'eu'],
  orgs: ['Acme'],
  emails: ['ops@acme.example'],
});
const zoe = makeIdentity({ commonNames: ['Zoë'], orgs: ['Acme'] });

const cases: [name: string, rules: Parameters<typeof compileAllowRules>[0], id: typeof orders, want: string | null][] =
  [
    ['cn exact', [{ cn: 'orders' }], orders, 'cn=orders'],
    ['cn is case-sensitive', [{ cn: 'Orders' }], orders, null],
    ['cn is not a prefix', [{ cn: 'order' }], orders, null],
    ['cn is not a substring', [{ cn: 'orders2' }], orders, null],
    ['ou matches any OU value', [{ ou: 'eu' }], orders, 'ou=eu'],
    ['o exact', [{ o: 'Acme' }], orders, 'o=Acme'],
    ['email exact', [{ email: 'ops@acme.example' }], orders, 'email=ops@acme.example'],
    ['email is case-sensitive', [{ email: 'OPS@acme.example' }], orders, null],
    ['all keys of one rule must match', [{ cn: 'orders', o: 'Acme' }], orders, 'cn=orders,o=Acme'],
    ['one failing key rejects the rule', [{ cn: 'orders', o: 'Evil' }], orders, null],
    [
      'keys do not mix across rules',
      [
        { cn: 'orders', o: 'Evil' },
        { cn: 'billing', o: 'Acme' },
      ],
      orders,
      null,
    ],
    ['the first matching rule is reported', [{ cn: 'billing' }, { o: 'Acme' }, { cn: 'orders' }], orders, 'o=Acme'],
    ['decoded Unicode CN', [{ cn: 'Zoë' }], zoe, 'cn=Zo?'],
    ['escaped form is not the decoded value', [{ cn: 'Zo\\C3\\AB' }], zoe, null],
    ['an identity without CN', [{ cn: 'orders' }], makeIdentity(), null],
    ['an empty list admits no one', [], orders, null],
    ['any-verified', 'any-verified', makeIdentity(), 'any-verified'],
  ];

for (const [name, rules, id, want] of cases) {
  t.equal(compileAllowRules(rules, 'test').matcher(id), want, name);
}

t.test('labels are bounded in length and printable', async (t) => {
  const long = 'x'.repeat(500);
  const label = compileAllowRules([{ cn: long }], 'test').matcher(makeIdentity({ commonNames: [long] }));
  t.ok(label !== null && label.length <= 90, `label length ${label?.length}`);
  t.match(label, /^cn=x+\.\.\.$/);
});
