// URI rules: exact, or a trailing "/*" prefix that needs at least one more plain segment and cannot be tricked.
import t from 'tap';
import { compileAllowRules } from '../../src/authz/allow-rules.js';
import { makeIdentity } from './identity-fixture.js';

const PROD = 'spiffe://example.org/ns/prod/*';
const cases: [rule: string, san: string, admitted: boolean][] = [
  ['spiffe://example.org/ns/prod/sa/orders', 'spiffe://example.org/ns/prod/sa/orders', true],
  ['spiffe://example.org/ns/prod/sa/orders', 'spiffe://example.org/ns/prod/sa/orders/x', false],
  ['spiffe://example.org/ns/prod/sa/orders', 'spiffe://example.org/ns/prod/sa/order', false],
  ['spiffe://example.org/ns/prod/sa/orders', 'SPIFFE://example.org/ns/prod/sa/orders', false],
  [PROD, 'spiffe://example.org/ns/prod/x', true],
  [PROD, 'spiffe://example.org/ns/prod/sa/orders', true],
  [PROD, 'spiffe://example.org/ns/prod', false],
  [PROD, 'spiffe://example.org/ns/prod/', false],
  [PROD, 'spiffe://example.org/ns/production/x', false],
  [PROD, 'spiffe://example.org/ns/prodx', false],
  [PROD, 'spiffe://example.org/ns/prod/../admin', false],
  [PROD, 'spiffe://example.org/ns/prod/x/../../admin', false],
  [PROD, 'spiffe://example.org/ns/prod/./x', false],
  [PROD, 'spiffe://example.org/ns/prod/x/.', false],
  [PROD, 'spiffe://example.org/ns/prod//x', false],
  [PROD, 'spiffe://example.org/ns/prod/%2e%2e/admin', false],
  [PROD, 'spiffe://example.org/ns/prod/x%2Fy', false],
  [PROD, 'spiffe://example.org/ns/prod/x%2fy', false],
  [PROD, 'spiffe://example.org/ns/prod/x%5Cy', false],
  [PROD, 'spiffe://example.org/ns/prod/x\\..\\admin', false],
  [PROD, 'spiffe://example.org/ns/prod/x%00', false],
  [PROD, 'spiffe://example.org/ns/prod/x y', false],
  [PROD, 'spiffe://example.org/ns/prod/\u00e9', false],
  [PROD, 'spiffe://evil.org/spiffe://example.org/ns/prod/x', false],
  ['spiffe://example.org/*', 'spiffe://example.org/anything/at/all', true],
  ['spiffe://example.org/*', 'spiffe://example.org.evil/x', false],
];

for (const [rule, san, admitted] of cases) {
  const got = compileAllowRules([{ uri: rule }], 'test').matcher(makeIdentity({ uris: [san] }));
  t.equal(got, admitted ? `uri=${rule}` : null, `${rule} ${admitted ? 'admits' : 'refuses'} ${JSON.stringify(san)}`);
}

t.test('any one URI SAN may match', async (t) => {
  const id = makeIdentity({ uris: ['spiffe://example.org/ns/prod/../admin', 'spiffe://example.org/ns/prod/sa/ok'] });
  t.equal(compileAllowRules([{ uri: PROD }], 'test').matcher(id), `uri=${PROD}`);
});
