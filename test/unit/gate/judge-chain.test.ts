// judgeChain without sockets: openssl-made certificates and CRL (test/fixture-makers/gate-verdict-fixtures.ts),
// expected verdicts written out by hand, identities and chain order checked against what openssl printed for each
// certificate (manifest.json).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { judgeChain, type ChainJudgement, type PresentedChain } from '../../../src/gate/judge-chain.js';
import { parseCrlPem } from '../../../src/state/crl.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const cert = (name: string): X509Certificate => new X509Certificate(fixture(`${name}.crt`));
const manifest = JSON.parse(fixture('manifest.json')) as Record<
  string,
  { subject: string; serial: string; fingerprint256: string }
>;

const root = cert('root');
const inter = cert('inter');
const alice = cert('alice');
const mallory = cert('mallory');
const bob = cert('bob');
const stranger = cert('stranger');

/** Any instant inside the fixtures' validity (2026 to 2126). */
const NOW = Date.UTC(2030, 0, 1);
const trustRoot = { caCerts: [root], crls: [] };
const trustRootWithCrl = {
  caCerts: [root],
  crls: parseCrlPem(fixture('inter-revokes-mallory.crl.pem'), [root, inter]),
};

function full(certs: X509Certificate[], verifyError: string | null = null): PresentedChain {
  return { certs, tooLong: false, verifyError, resumed: false, remembered: null };
}

function resumed(leaf: X509Certificate, remembered: X509Certificate[][] | null): PresentedChain {
  return { certs: [leaf], tooLong: false, verifyError: null, resumed: true, remembered };
}

function refusal(j: ChainJudgement): { reason: string; detail: string } | 'admitted' {
  return j.admitted ? 'admitted' : { reason: j.reason, detail: j.detail };
}

const fingerprints = (chain: readonly X509Certificate[]): string[] => chain.map((c) => c.fingerprint256);
const oracle = (...names: string[]): string[] => names.map((n) => manifest[n]!.fingerprint256);

t.test('no certificate, or a chain longer than the bound, is refused before anything is parsed', async (t) => {
  t.same(refusal(judgeChain(null, trustRoot, NOW)), {
    reason: 'no_certificate',
    detail: 'the client sent no certificate',
  });
  const tooLong: PresentedChain = { certs: [], tooLong: true, verifyError: null, resumed: false, remembered: null };
  t.same(refusal(judgeChain(tooLong, trustRoot, NOW)), {
    reason: 'chain_too_long',
    detail: 'more than 10 certificates',
  });
  t.same(refusal(judgeChain({ ...tooLong, verifyError: 'CERT_HAS_EXPIRED' }, trustRoot, NOW)), {
    reason: 'chain_too_long',
    detail: 'more than 10 certificates',
  });
});

t.test('a chain OpenSSL refused gets the reason its verify code names', async (t) => {
  const cases: Array<[string, string]> = [
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unknown_ca'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown_ca'],
    ['CERT_HAS_EXPIRED', 'expired'],
    ['CERT_NOT_YET_VALID', 'not_yet_valid'],
    ['CERT_REVOKED', 'revoked'],
    ['INVALID_PURPOSE', 'bad_key_usage'],
    ['PATH_LENGTH_EXCEEDED', 'invalid_chain'],
    ['SOMETHING_NEW', 'other'],
  ];
  for (const [code, reason] of cases) {
    t.same(refusal(judgeChain(full([stranger], code), trustRoot, NOW)), { reason, detail: code }, code);
  }
  t.same(refusal(judgeChain(full([alice, inter], ''), trustRoot, NOW)), {
    reason: 'other',
    detail: 'unknown verification error',
  });
  const unspecified = judgeChain(full([alice, inter], 'UNSPECIFIED'), trustRoot, NOW);
  t.equal(unspecified.admitted, false);
  t.equal(!unspecified.admitted && unspecified.reason, 'invalid_chain', 'UNSPECIFIED with no defect found: a CA rule');
});

t.test('a defect in the certificates is named before the verify code', async (t) => {
  const weak = judgeChain(full([cert('weak-rsa'), inter], 'CERT_HAS_EXPIRED'), trustRoot, NOW);
  t.same(refusal(weak), { reason: 'weak_key', detail: 'certificate 0: RSA key of 1024 bits (at least 2048 required)' });
  const sha1 = judgeChain(full([cert('sha1-signed'), inter], 'UNSPECIFIED'), trustRoot, NOW);
  t.same(refusal(sha1), { reason: 'weak_signature', detail: 'certificate 0: signed with ecdsa-with-SHA1' });
});

t.test('a verified full handshake is admitted on the chain built by signature, with the leaf identity', async (t) => {
  const j = judgeChain(full([alice, inter]), trustRoot, NOW);
  if (!j.admitted) throw new Error(`refused: ${j.reason} ${j.detail}`);
  t.same(
    j.chains.map(fingerprints),
    [oracle('alice', 'inter', 'root')],
    'leaf, the intermediate it sent, the loaded root',
  );
  t.same(fingerprints(j.built), oracle('alice', 'inter', 'root'), 'the built chain, to remember for resumption');
  t.equal(j.identity.subject, manifest.alice!.subject, 'subject as openssl prints it (RFC 2253)');
  t.equal(j.identity.serial.replace(/:/g, '').toUpperCase(), manifest.alice!.serial);
  t.same(j.identity.uris, ['spiffe://example.org/ns/prod/sa/alice']);
});

t.test('a leaf whose intermediate is loaded as a CA needs nothing more than the leaf', async (t) => {
  const j = judgeChain(full([alice]), { caCerts: [inter], crls: [] }, NOW);
  t.equal(j.admitted, true);
  t.same(j.admitted && j.chains.map(fingerprints), [oracle('alice', 'inter')]);
});

t.test('verified chains are judged again under the CAs and CRLs given (a reload since the handshake)', async (t) => {
  const revoked = judgeChain(full([mallory, inter]), trustRootWithCrl, NOW);
  t.same(refusal(revoked), { reason: 'revoked', detail: 'listed by a loaded CRL' });
  t.same(
    !revoked.admitted && revoked.built && fingerprints(revoked.built),
    oracle('mallory', 'inter', 'root'),
    'built even when refused',
  );
  t.equal(judgeChain(full([mallory, inter]), trustRoot, NOW).admitted, true, 'the same chain without the CRL');
  t.equal(judgeChain(full([alice, inter]), trustRootWithCrl, NOW).admitted, true, 'the CRL lists mallory only');
  t.same(refusal(judgeChain(full([stranger]), trustRoot, NOW)), {
    reason: 'unknown_ca',
    detail: 'issuer no longer trusted',
  });
  t.same(refusal(judgeChain(full([alice, inter]), trustRoot, Date.UTC(2127, 0, 1))), {
    reason: 'expired',
    detail: 'a certificate of the chain expired',
  });
  t.same(refusal(judgeChain(full([cert('weak-rsa'), inter]), trustRoot, NOW)), {
    reason: 'weak_key',
    detail: 'certificate 0: RSA key of 1024 bits (at least 2048 required)',
  });
});

t.test('a resumed session stands on the chains remembered for its leaf', async (t) => {
  const remembered = judgeChain(resumed(alice, [[alice, inter, root]]), trustRoot, NOW);
  t.equal(remembered.admitted, true);
  t.same(remembered.admitted && remembered.chains.map(fingerprints), [oracle('alice', 'inter', 'root')]);
  const revoked = judgeChain(resumed(mallory, [[mallory, inter, root]]), trustRootWithCrl, NOW);
  t.same(refusal(revoked), { reason: 'revoked', detail: 'listed by a loaded CRL' });
  const distrusted = judgeChain(
    resumed(alice, [[alice, inter, root]]),
    { caCerts: [cert('other-root')], crls: [] },
    NOW,
  );
  t.same(refusal(distrusted), { reason: 'unknown_ca', detail: 'issuer no longer trusted' });
});

t.test(
  'a resumed session with nothing remembered: a leaf of a loaded CA stands, any other needs a full handshake',
  async (t) => {
    const direct = judgeChain(resumed(bob, null), trustRoot, NOW);
    t.equal(direct.admitted, true);
    t.same(direct.admitted && direct.chains.map(fingerprints), [oracle('bob', 'root')]);
    const unknown = judgeChain(resumed(alice, null), trustRoot, NOW);
    t.same(refusal(unknown), {
      reason: 'unknown_ca',
      detail: 'resumed session whose verified chain is not known here; a full handshake is needed',
    });
    t.equal(!unknown.admitted && unknown.fullHandshakeNeeded, true);
  },
);
