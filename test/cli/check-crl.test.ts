// `check --json` counts loaded CRLs with their issuer, revoked entries and nextUpdate as openssl reads them, and warns
// about a stale one without failing.
import { existsSync } from 'node:fs';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeCrl, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { readOpensslCert, readOpensslCrlNextUpdate } from '../containment/helpers/openssl-fields.js';

interface CrlEntry {
  issuer: string;
  nextUpdate: string | null;
  daysLeft: number | null;
  revoked: number;
}

t.test('CRLs in check --json', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-check-crl-');
  t.teardown(() => removeDir(dir));
  const caA = makeCa(dir, 'ca-a', { subject: '/O=Acme/CN=CA A' });
  const caB = makeCa(dir, 'ca-b', { subject: '/O=Acme/CN=CA B' });
  const server = makeLeaf(dir, 'server', caA, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
  const revokedA = makeLeaf(dir, 'gone-1', caA);
  const revokedB = makeLeaf(dir, 'gone-2', caA);
  const fresh = makeCrl(dir, caA, [revokedA, revokedB], { nextUpdateHours: 24 * 5 + 12 });
  const stale = makeCrl(dir, caB, [], { nextUpdateHours: -30 });

  const result = runCli([
    'check',
    '--json',
    '--allow-insecure-posture',
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    caA.cert,
    '--client-ca',
    caB.cert,
    '--crl',
    fresh,
    '--crl',
    stale,
    '--allow-any-verified',
  ]);
  t.equal(result.status, 0, `a stale CRL does not stop run\n${result.stdout}${result.stderr}`);
  const report = JSON.parse(result.stdout) as { crls: CrlEntry[]; warnings: string[] };
  t.equal(report.crls.length, 2, 'both CRLs counted');

  const byIssuer = new Map(report.crls.map((c) => [c.issuer, c]));
  const a = byIssuer.get(readOpensslCert(caA.cert).subject);
  const b = byIssuer.get(readOpensslCert(caB.cert).subject);
  t.ok(a && b, 'each CRL is tied to the CA openssl names');
  t.equal(a?.revoked, 2);
  t.equal(b?.revoked, 0);
  t.equal(Date.parse(a?.nextUpdate ?? ''), readOpensslCrlNextUpdate(fresh), 'nextUpdate as openssl reads it');
  t.equal(Date.parse(b?.nextUpdate ?? ''), readOpensslCrlNextUpdate(stale));
  t.equal(a?.daysLeft, 5);
  t.equal(b?.daysLeft, -2, 'stale since 30 hours: floor of -1.25 days');
  t.equal(report.warnings.filter((w) => w.includes('past its nextUpdate')).length, 1, 'one warning, for the stale CRL');
});
