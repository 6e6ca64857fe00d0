// Regenerates the certificates and CRL of the verdict unit tests with the openssl CLI (keys stay in a temp dir and are
// dropped), and records in manifest.json what openssl itself reports about each certificate: the tests' oracle.
// Run: node --import @tapjs/typescript/import test/fixture-makers/gate-verdict-fixtures.ts --write
// (without --write it does nothing: a test runner given this folder must not rewrite the fixtures).
import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCert } from '../helpers/hostile-pki.js';
import { makeCrl, makeTmpDir, openssl, removeDir, type CertFiles } from '../helpers/pki.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'unit', 'gate', 'fixtures');
const CENTURY = 36_500;

function writeFixtures(): void {
  const work = makeTmpDir('verdict-fixtures-');
  try {
    const root = makeCert(work, 'root', { ca: true, subject: '/CN=Verdicts Root CA', days: CENTURY });
    const inter = makeCert(work, 'inter', {
      ca: true,
      issuer: root,
      subject: '/CN=Verdicts Intermediate',
      days: CENTURY,
    });
    const otherRoot = makeCert(work, 'other-root', { ca: true, subject: '/CN=Other Root CA', days: CENTURY });
    const san = (name: string): string[] => [`subjectAltName = URI:spiffe://example.org/ns/prod/sa/${name}`];
    const certs: Record<string, CertFiles> = {
      root,
      inter,
      'other-root': otherRoot,
      alice: makeCert(work, 'alice', {
        issuer: inter,
        subject: '/O=Acme/CN=alice',
        extraExtLines: san('alice'),
        days: CENTURY,
      }),
      mallory: makeCert(work, 'mallory', {
        issuer: inter,
        subject: '/CN=mallory',
        extraExtLines: san('mallory'),
        days: CENTURY,
      }),
      bob: makeCert(work, 'bob', { issuer: root, subject: '/CN=bob', extraExtLines: san('bob'), days: CENTURY }),
      stranger: makeCert(work, 'stranger', { issuer: otherRoot, subject: '/CN=stranger', days: CENTURY }),
      'weak-rsa': makeCert(work, 'weak-rsa', {
        issuer: inter,
        subject: '/CN=weak-rsa',
        keyType: 'rsa',
        rsaBits: 1024,
        days: CENTURY,
      }),
      'sha1-signed': makeCert(work, 'sha1-signed', {
        issuer: inter,
        subject: '/CN=sha1-signed',
        digest: 'sha1',
        days: CENTURY,
      }),
    };
    const manifest: Record<string, { subject: string; serial: string; fingerprint256: string; notAfter: string }> = {};
    for (const [name, files] of Object.entries(certs)) {
      copyFileSync(files.cert, join(out, `${name}.crt`));
      const field = (flag: string): string =>
        openssl(['x509', '-noout', flag, '-in', files.cert])
          .trim()
          .replace(/^[^=]*=/, '');
      manifest[name] = {
        subject: openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', files.cert])
          .trim()
          .replace(/^subject=/, ''),
        serial: field('-serial'),
        fingerprint256: openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', files.cert])
          .trim()
          .replace(/^[^=]*=/, ''),
        notAfter: field('-enddate'),
      };
    }
    copyFileSync(
      makeCrl(work, inter, [certs.mallory!], { nextUpdateHours: 24 * 365 * 90 }),
      join(out, 'inter-revokes-mallory.crl.pem'),
    );
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  } finally {
    removeDir(work);
  }
}

if (process.argv.includes('--write')) writeFixtures();
