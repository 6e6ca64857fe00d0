// DNS rules: exact (ASCII case-insensitive) or one leading "*." label, never more and never the bare parent.
import t from 'tap';
import { compileAllowRules } from '../../src/authz/allow-rules.js';
import { makeIdentity } from './identity-fixture.js';

const cases: [rule: string, san: string, admitted: boolean][] = [
  ['api.example.org', 'api.example.org', true],
  ['api.example.org', 'API.Example.ORG', true],
  ['API.example.org', 'api.example.org', true],
  ['api.example.org', 'api.example.org.', true],
  ['api.example.org.', 'api.example.org', true],
  ['api.example.org', 'xapi.example.org', false],
  ['api.example.org', 'api.example.org.evil', false],
  ['api.example.org', 'a.api.example.org', false],
  ['*.example.org', 'a.example.org', true],
  ['*.example.org', 'A-1_b.EXAMPLE.org', true],
  ['*.example.org', 'example.org', false],
  ['*.example.org', '.example.org', false],
  ['*.example.org', 'a.b.example.org', false],
  ['*.example.org', 'aexample.org', false],
  ['*.example.org', 'a.example.org.evil', false],
  ['*.example.org', '*.example.org', false],
  ['*.example.org', 'a b.example.org', false],
  // KELVIN SIGN lower-cases to "k" with String#toLowerCase; a look-alike must not be folded into a match.
  ['kube.example.org', '\u212Aube.example.org', false],
  ['*.example.org', '\u212A.example.org', false],
];

for (const [rule, san, admitted] of cases) {
  const got = compileAllowRules([{ dns: rule }], 'test').matcher(makeIdentity({ dns: ['other.invalid', san] }));
  t.equal(got, admitted ? `dns=${rule}` : null, `${rule} ${admitted ? 'admits' : 'refuses'} ${JSON.stringify(san)}`);
}
