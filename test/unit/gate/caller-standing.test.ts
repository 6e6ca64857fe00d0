// An admitted connection's standing under later snapshots, without sockets: openssl-made chains and CRL (fixtures/).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { callerStandingOf, validUntilOf, type VerifiedConnection } from '../../../src/gate/verified-connection.js';
import { computeIdentity } from '../../../src/identity/identity.js';
import { parseCrlPem } from '../../../src/state/crl.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const cert = (name: string): X509Certificate => new X509Certificate(fixture(`${name}.crt`));
const [root, inter, mallory, otherRoot] = [cert('root'), cert('inter'), cert('mallory'), cert('other-root')];
const crls = parseCrlPem(fixture('inter-revokes-mallory.crl.pem'), [root, inter]);
const NOW = Date.UTC(2030, 0, 1);

function connection(chain: X509Certificate[], judgedVersion: number): VerifiedConnection {
  return {
    identity: computeIdentity(chain[0]!),
    identityHeaders: [],
    chains: [chain],
    remoteAddress: '127.0.0.1',
    validUntilMs: validUntilOf([chain]),
    judgedVersion,
    revoked: false,
  };
}

t.test(
  'the earliest expiry of the chain bounds the connection (openssl: every fixture ends in November 2126)',
  async (t) => {
    const until = validUntilOf([[mallory, inter, root]]);
    t.equal(new Date(until).getUTCFullYear(), 2126);
    t.equal(until, Math.min(...[mallory, inter, root].map((c) => Date.parse(c.validTo))));
  },
);

t.test('a CRL or a CA change in a later snapshot revokes; expiry counts as revoked at any version', async (t) => {
  const conn = connection([mallory, inter, root], 1);
  t.same(
    callerStandingOf(conn, { version: 1, material: { caCerts: [root], crls: [] } }, NOW).revoked,
    false,
    'admitted under version 1',
  );
  t.equal(
    callerStandingOf(conn, { version: 2, material: { caCerts: [root], crls } }, NOW).revoked,
    true,
    'version 2 lists mallory',
  );
  t.equal(
    callerStandingOf(conn, { version: 3, material: { caCerts: [root], crls: [] } }, NOW).revoked,
    false,
    'version 3 no longer does',
  );
  t.equal(
    callerStandingOf(conn, { version: 4, material: { caCerts: [otherRoot], crls: [] } }, NOW).revoked,
    true,
    'version 4 trusts another CA',
  );
  const fresh = connection([mallory, inter, root], 5);
  t.equal(
    callerStandingOf(fresh, { version: 5, material: { caCerts: [root], crls: [] } }, Date.UTC(2127, 0, 1)).revoked,
    true,
    'expired',
  );
  t.equal(
    callerStandingOf(fresh, { version: 5, material: { caCerts: [root], crls: [] } }, NOW).identity.subject,
    'CN=mallory',
  );
});

t.test('the chains are judged once per snapshot version (the verdict is kept on the connection)', async (t) => {
  const conn = connection([mallory, inter, root], 1);
  t.equal(callerStandingOf(conn, { version: 2, material: { caCerts: [root], crls } }, NOW).revoked, true);
  t.equal(conn.judgedVersion, 2);
  // Same version, other material: not judged again (a version names one snapshot, whose material never changes).
  t.equal(callerStandingOf(conn, { version: 2, material: { caCerts: [root], crls: [] } }, NOW).revoked, true);
});
