// isBuiltChainAnchored (fingerprints only) agrees with isChainAnchored (signatures) on every chain buildSignedChain
// makes from the same CAs: random trust sets and peer-sent lists over an openssl-made PKI with a cross-signed
// intermediate.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildSignedChain, isBuiltChainAnchored, isChainAnchored } from '../../src/state/revocation.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir, type CertFiles } from '../helpers/pki.js';

/** Mulberry32: a small seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function crossSign(dir: string, ca: CertFiles, by: CertFiles): X509Certificate {
  const csr = join(dir, `${ca.name}-x.csr`);
  const ext = join(dir, 'x.ext');
  writeFileSync(
    ext,
    'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n',
  );
  const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'compat', '-in', ca.cert])
    .trim()
    .replace(/^subject=\s*/, '');
  openssl(['req', '-new', '-key', ca.key, '-subj', subject, '-out', csr]);
  const out = join(dir, `${ca.name}-x.crt`);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    by.cert,
    '-CAkey',
    by.key,
    '-set_serial',
    '0x7777',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    out,
  ]);
  return new X509Certificate(openssl(['x509', '-in', out]));
}

t.test('fingerprint anchoring equals signature anchoring for built chains', async (t) => {
  const dir = makeTmpDir('mtls-anchor-');
  t.teardown(() => removeDir(dir));
  const r1 = makeCa(dir, 'Root One');
  const r2 = makeCa(dir, 'Root Two');
  const i1 = makeCa(dir, 'Inter One', { issuer: r1 });
  const i2 = makeCa(dir, 'Inter Two', { issuer: i1 });
  const i3 = makeCa(dir, 'Inter Three', { issuer: r2 });
  const x509 = (c: CertFiles) => new X509Certificate(c.certPem);
  const i1x = crossSign(dir, i1, r2);
  const cas = [x509(r1), x509(r2), x509(i1), x509(i2), x509(i3), i1x];
  const leaves = [
    makeLeaf(dir, 'l-i2', i2),
    makeLeaf(dir, 'l-i1', i1),
    makeLeaf(dir, 'l-r2', r2),
    makeLeaf(dir, 'l-i3', i3),
    makeLeaf(dir, 'l-r1', r1),
  ].map(x509);
  const rand = seeded(20261128);
  const pick = <T>(xs: readonly T[]): T[] => xs.filter(() => rand() < 0.5).sort(() => rand() - 0.5);
  let anchored = 0;
  let unanchored = 0;
  let mismatches = 0;
  for (let i = 0; i < 400; i++) {
    const leaf = leaves[Math.floor(rand() * leaves.length)] as X509Certificate;
    const trusted = pick(cas);
    const sent = pick(cas);
    const chain = buildSignedChain(leaf, sent, trusted);
    const slow = isChainAnchored(chain, trusted);
    if (isBuiltChainAnchored(chain, trusted) !== slow) mismatches += 1;
    if (slow) anchored += 1;
    else unanchored += 1;
  }
  t.equal(mismatches, 0, 'no disagreement over 400 random trust sets and sent chains');
  t.ok(anchored > 50 && unanchored > 50, `both outcomes exercised (${anchored} anchored, ${unanchored} not)`);
});
