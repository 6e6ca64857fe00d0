// Subject rules compare parsed RFC 4514 names attribute by attribute: spacing, type-name case and escapes do not
// matter.
import t from 'tap';
import { compileAllowRules } from '../../../src/authz/allow-rules.js';
import { makeIdentity, rdns } from './identity-fixture.js';

const orders = makeIdentity({
  subject: 'CN=orders,OU=payments,O=Acme\\, Inc.,C=DE',
  subjectRdns: rdns([['CN', 'orders']], [['OU', 'payments']], [['O', 'Acme, Inc.']], [['C', 'DE']]),
});
const zoe = makeIdentity({ subjectRdns: rdns([['CN', 'Zoë']], [['O', 'Acme']]) });
const multi = makeIdentity({
  subjectRdns: rdns(
    [
      ['CN', 'a'],
      ['UID', 'u1'],
    ],
    [
      ['DC', 'example'],
      ['DC', 'org'],
    ],
  ),
});
const spaced = makeIdentity({ subjectRdns: rdns([['CN', ' padded ']], [['O', '#tag']]) });

const cases: [rule: string, id: typeof orders, admitted: boolean][] = [
  ['CN=orders,OU=payments,O=Acme\\, Inc.,C=DE', orders, true],
  ['cn=orders, ou=payments, o=Acme\\, Inc., c=DE', orders, true],
  ['  CN = orders ,OU= payments,  O =Acme\\2C Inc.  , C=DE  ', orders, true],
  ['2.5.4.3=orders,OU=payments,O=Acme\\, Inc.,countryName=DE'.replace('countryName', 'C'), orders, true],
  ['OID.2.5.4.3=orders,OU=payments,O=Acme\\, Inc.,C=DE', orders, true],
  ['CN=#0C066F7264657273,OU=payments,O=Acme\\, Inc.,C=DE', orders, true],
  ['CN=orders,OU=payments,O=Acme\\, Inc.', orders, false],
  ['OU=payments,CN=orders,O=Acme\\, Inc.,C=DE', orders, false],
  ['CN=Orders,OU=payments,O=Acme\\, Inc.,C=DE', orders, false],
  ['CN=orders,OU=payments,O=Acme\\, Inc.,C=DE,DC=x', orders, false],
  ['CN=Zo\\C3\\AB,O=Acme', zoe, true],
  ['CN=Zo\\c3\\ab, O=Acme', zoe, true],
  ['CN=Zoë,O=Acme', zoe, true],
  ['CN=Zoe,O=Acme', zoe, false],
  ['CN=a+UID=u1,DC=example+DC=org', multi, true],
  ['UID=u1 + CN=a, DC=org+DC=example', multi, true],
  ['CN=a,UID=u1,DC=example,DC=org', multi, false],
  ['CN=\\ padded\\ ,O=\\#tag', spaced, true],
  ['CN=padded,O=#tag'.replace('#tag', '\\#tag'), spaced, false],
];

for (const [rule, id, admitted] of cases) {
  const got = compileAllowRules([{ subject: rule }], 'test').matcher(id);
  t.equal(got !== null, admitted, `${JSON.stringify(rule)} ${admitted ? 'admits' : 'refuses'}`);
}
