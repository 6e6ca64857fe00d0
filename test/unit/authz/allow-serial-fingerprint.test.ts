// Serial and fingerprint rules ignore case, colons, leading zeros (serial) and a "sha256:" prefix (fingerprint).
import t from 'tap';
import { compileAllowRules } from '../../../src/authz/allow-rules.js';
import { makeIdentity } from './identity-fixture.js';

// Written out by hand, the way `openssl x509 -fingerprint -sha256` and `-serial` print them, independent of our code.
const FP = '5f1c3a6e9b0d2c4f8a7e6d5c4b3a29181716151413121110a0b0c0d0e0f01234';
const FP_OPENSSL = '5F:1C:3A:6E:9B:0D:2C:4F:8A:7E:6D:5C:4B:3A:29:18:17:16:15:14:13:12:11:10:A0:B0:C0:D0:E0:F0:12:34';
const id = makeIdentity({ serial: '00C0FFEE01', fingerprint256: FP });

const admits: [rule: { serial: string } | { fingerprint: string }, admitted: boolean][] = [
  [{ serial: '00C0FFEE01' }, true],
  [{ serial: '00:c0:ff:ee:01' }, true],
  [{ serial: 'C0FFEE01' }, true],
  [{ serial: 'c0:ff:ee:01' }, true],
  [{ serial: '0000C0FFEE01' }, true],
  [{ serial: 'C0FFEE0' }, false],
  [{ serial: 'C0FFEE010' }, false],
  [{ serial: '01' }, false],
  [{ fingerprint: FP }, true],
  [{ fingerprint: FP.toUpperCase() }, true],
  [{ fingerprint: FP_OPENSSL }, true],
  [{ fingerprint: `sha256:${FP}` }, true],
  [{ fingerprint: `SHA256:${FP_OPENSSL}` }, true],
  [{ fingerprint: `${FP.slice(0, 63)}5` }, false],
];

for (const [rule, admitted] of admits) {
  t.equal(
    compileAllowRules([rule], 'test').matcher(id) !== null,
    admitted,
    `${JSON.stringify(rule)} ${admitted ? 'admits' : 'refuses'}`,
  );
}

t.test('labels show the normalized value', async (t) => {
  t.equal(compileAllowRules([{ serial: '00:c0:ff:ee:01' }], 'test').matcher(id), 'serial=C0FFEE01');
  t.equal(compileAllowRules([{ fingerprint: FP_OPENSSL }], 'test').matcher(id), `fingerprint=sha256:${FP}`);
});

t.test('a negative (non-compliant) serial matches only its own sign', async (t) => {
  const neg = makeIdentity({ serial: '-0A' });
  t.equal(compileAllowRules([{ serial: '-0a' }], 'test').matcher(neg), 'serial=-A');
  t.equal(compileAllowRules([{ serial: '0A' }], 'test').matcher(neg), null);
});
