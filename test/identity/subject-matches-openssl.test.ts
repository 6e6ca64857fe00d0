// The RFC 4514 subject and decoded name values agree with the openssl CLI for awkward but legal names.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function opensslName(certPath: string, which: '-subject' | '-issuer', nameopt: string): string {
  return openssl(['x509', '-in', certPath, '-noout', which, '-nameopt', nameopt])
    .replace(/\n$/, '')
    .replace(/^(subject|issuer)=/, '');
}

/**
 * openssl's one-RDN-per-line form, unescaped and decoded to UTF-8, as [short name, value] pairs in
 * openssl's RFC2253 order (lines and the ' + '-joined attributes of a multi-valued RDN both reversed).
 * Splitting on ' + ' is safe only because no value in the fixture has ' + ' followed by 'name='.
 */
function opensslDecodedPairs(certPath: string): Array<[string, string]> {
  return opensslName(certPath, '-subject', 'sep_multiline,sname,utf8,-esc_msb')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .reverse()
    .flatMap((l) =>
      l
        .trim()
        .split(/ \+ (?=[A-Za-z0-9.]+=)/)
        .reverse(),
    )
    .map((a) => {
      const m = /^([^=]+)=(.*)$/.exec(a);
      if (!m) throw new Error(`unexpected openssl output ${JSON.stringify(a)}`);
      return [m[1] as string, m[2] as string];
    });
}

t.test('subject with comma and plus inside O, two OUs, non-ASCII CN and a multi-valued RDN', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root', { subject: '/C=DE/O=Root Org/CN=Root CA' });
  const leaf = makeLeaf(dir, 'zoe', root, {
    subject: '/C=US/O=Acme, Inc. \\+ Partners/OU=payments/OU=team\\/blue/CN=Zoë+UID=zoe-01',
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));

  // No '=' and only RFC 4514 short names in this subject, so openssl's RFC2253 form must match byte for byte.
  t.equal(id.subject, opensslName(leaf.cert, '-subject', 'RFC2253'));
  t.equal(id.issuer, opensslName(leaf.cert, '-issuer', 'RFC2253'));
  t.equal(id.issuer, 'CN=Root CA,O=Root Org,C=DE');
  t.equal(id.subject, 'UID=zoe-01+CN=Zo\\C3\\AB,OU=team/blue,OU=payments,O=Acme\\, Inc. \\+ Partners,C=US');
  t.match(id.subject, PRINTABLE_ASCII);
  t.equal(id.cnEscaped, 'Zo\\C3\\AB');

  t.same(id.commonNames, ['Zoë']);
  t.same(id.orgUnits, ['team/blue', 'payments']);
  t.same(id.orgs, ['Acme, Inc. + Partners']);

  // Decoded values against openssl's unescaped UTF-8 listing.
  const pairs = opensslDecodedPairs(leaf.cert);
  const ours = id.subjectRdns.flat().map((a) => [a.type, a.value]);
  t.same(ours, pairs);
  t.equal(id.subjectRdns.length, 5, 'CN+UID is one RDN');
  t.same(
    id.subjectRdns[0]?.map((a) => a.type),
    ['UID', 'CN'],
  );
});
