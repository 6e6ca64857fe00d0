// `certs revoke` and `certs crl` keep DIR/crl.pem: signed by the CA, every revoked serial kept, the CRL number rising,
// nextUpdate 30 days out (or --days). openssl is the oracle: `openssl crl -verify -CAfile ca.crt -text`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cliMissing } from '../ops/lib/cli-process.js';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { runCli } from './run-cli.js';

interface CrlView {
  verified: boolean;
  number: number;
  serials: string[];
  lastUpdate: Date;
  nextUpdate: Date;
}

/** What openssl reads from the CRL; -verify checks the signature with the CA's key. */
function readCrl(dir: string): CrlView {
  const run = spawnSync(
    'openssl',
    ['crl', '-in', join(dir, 'crl.pem'), '-verify', '-CAfile', join(dir, 'ca.crt'), '-text', '-noout'],
    { encoding: 'utf8' },
  );
  const text = run.stdout;
  const number = /CRL Number:\s*\n\s*(\d+)/.exec(text);
  const date = (label: string): Date => new Date(`${(new RegExp(`${label}: (.+)`).exec(text) ?? [])[1]}`);
  return {
    verified: run.status === 0 && /verify OK/.test(run.stderr),
    number: Number(number?.[1]),
    serials: [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1] as string),
    lastUpdate: date('Last Update'),
    nextUpdate: date('Next Update'),
  };
}

const serialOf = (file: string): string =>
  openssl(['x509', '-in', file, '-noout', '-serial']).trim().replace('serial=', '');
const DAY = 86_400_000;

t.test('revoke, revoke again, refresh', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('revoke-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  t.equal((await runCli(['certs', 'init', dir, '--client', 'a', '--client', 'b', '--client', 'c'])).code, 0);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => serialOf(join(dir, `${n}.crt`))) as [string, string, string];

  const first = await runCli(['certs', 'revoke', dir, 'a']);
  t.equal(first.code, 0, first.stderr);
  let crl = readCrl(dir);
  t.ok(crl.verified, 'openssl verifies the signature against ca.crt');
  t.equal(crl.number, 1);
  t.same(crl.serials, [a]);
  const days = (crl.nextUpdate.getTime() - crl.lastUpdate.getTime()) / DAY;
  t.ok(days === 30, `nextUpdate 30 days after lastUpdate (${days})`);
  t.ok(Math.abs(crl.lastUpdate.getTime() - Date.now()) < 10 * 60_000, 'lastUpdate is now');
  t.equal(statSync(join(dir, 'crl.pem')).mode & 0o777, 0o644);
  t.match(first.stdout, /CRL number 1, 1 revoked, next update/);
  t.match(first.stdout, /certs crl/, 'says how to refresh');

  const second = await runCli(['certs', 'revoke', dir, 'b', 'a', '--days', '7']);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /client "a" \(serial [0-9A-F]+\) was already revoked/);
  crl = readCrl(dir);
  t.equal(crl.number, 2, 'CRL number rises');
  t.same(crl.serials, [a, b], 'earlier revocations kept, no duplicate');
  t.equal((crl.nextUpdate.getTime() - crl.lastUpdate.getTime()) / DAY, 7, '--days');

  const bySerial = await runCli(['certs', 'revoke', dir, '--serial', c.toLowerCase().replace(/(..)(?!$)/g, '$1:')]);
  t.equal(bySerial.code, 0, bySerial.stderr);
  crl = readCrl(dir);
  t.equal(crl.number, 3);
  t.same(crl.serials, [a, b, c], '--serial in any spelling');

  const nothingNew = await runCli(['certs', 'revoke', dir, 'c']);
  t.equal(nothingNew.code, 0);
  t.equal(readCrl(dir).number, 3, 'nothing new: the CRL is left as it was');

  const refresh = await runCli(['certs', 'crl', dir]);
  t.equal(refresh.code, 0, refresh.stderr);
  crl = readCrl(dir);
  t.equal(crl.number, 4, 'refresh: next number');
  t.same(crl.serials, [a, b, c], 'refresh keeps every revocation');
  t.same(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

t.test('certs crl on a fresh directory writes an empty CRL the proxy can load', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('crl-empty-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  t.equal((await runCli(['certs', 'init', dir])).code, 0);
  t.equal((await runCli(['certs', 'crl', dir, '--days', '1'])).code, 0);
  const crl = readCrl(dir);
  t.equal(crl.number, 1);
  t.same(crl.serials, []);
  const check = await runCli([
    'check',
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    join(dir, 'server.crt'),
    '--key',
    join(dir, 'server.key'),
    '--client-ca',
    join(dir, 'ca.crt'),
    '--crl',
    join(dir, 'crl.pem'),
    '--allow-cn',
    'client',
    '--allow-insecure-posture',
    '--json',
  ]);
  const report = JSON.parse(check.stdout) as {
    checks: { material: { status: string } };
    crls: Array<{ revoked: number }>;
  };
  t.equal(report.checks.material.status, 'ok', 'check loads the CRL');
  t.equal(report.crls[0]?.revoked, 0);
});

t.test(
  'refusals: foreign CRL, unknown client, bad flags (exit 78, nothing written)',
  { skip: cliMissing() },
  async (t) => {
    const parent = makeTmpDir('revoke-bad-');
    t.teardown(() => removeDir(parent));
    const dir = join(parent, 'pki');
    const other = join(parent, 'other');
    t.equal((await runCli(['certs', 'init', dir])).code, 0);
    t.equal((await runCli(['certs', 'init', other])).code, 0);
    t.equal((await runCli(['certs', 'crl', other])).code, 0);

    const unknown = await runCli(['certs', 'revoke', dir, 'nobody']);
    t.equal(unknown.code, 78);
    t.match(unknown.stderr, /nobody\.crt": does not exist; .*--serial/);
    const foreignClient = await runCli(['certs', 'revoke', dir, '--serial', 'zz']);
    t.equal(foreignClient.code, 78);
    t.match(foreignClient.stderr, /--serial: "zz" is not a hex serial/);
    const badDays = await runCli(['certs', 'crl', dir, '--days', '0']);
    t.equal(badDays.code, 78);
    t.match(badDays.stderr, /--days: "0" must be a whole number of days from 1 to 3650/);
    t.same(
      readdirSync(dir).filter((f) => f.startsWith('crl') || f.endsWith('.tmp')),
      [],
      'nothing written',
    );

    // Another update in progress (its lock file): refused, nothing written; the lock is never left behind by a run.
    writeFileSync(join(dir, '.crl.pem.lock'), '');
    const locked = await runCli(['certs', 'crl', dir]);
    t.equal(locked.code, 78);
    t.match(locked.stderr, /\.crl\.pem\.lock" exists: another certs revoke or certs crl is updating this CRL/);
    t.same(
      readdirSync(dir).filter((f) => f === 'crl.pem'),
      [],
      'nothing written while locked',
    );
    rmSync(join(dir, '.crl.pem.lock'));
    t.equal((await runCli(['certs', 'crl', dir])).code, 0);
    t.notOk(readdirSync(dir).includes('.crl.pem.lock'), 'lock removed after a run');
    rmSync(join(dir, 'crl.pem'));

    // A client of another CA cannot be revoked by this one.
    writeFileSync(join(dir, 'stranger.crt'), readFileSync(join(other, 'client.crt')));
    const stranger = await runCli(['certs', 'revoke', dir, 'stranger']);
    t.equal(stranger.code, 78);
    t.match(stranger.stderr, /stranger\.crt": was not issued by/);

    // A crl.pem signed by another CA is never extended (its entries could not be trusted) or silently replaced.
    writeFileSync(join(dir, 'crl.pem'), readFileSync(join(other, 'crl.pem')));
    const foreign = await runCli(['certs', 'revoke', dir, 'client']);
    t.equal(foreign.code, 78);
    t.match(foreign.stderr, /crl\.pem": .*signed by no --client-ca certificate.*move it away/);
    t.same(readFileSync(join(dir, 'crl.pem')), readFileSync(join(other, 'crl.pem')), 'left untouched');
  },
);

t.test('revokes run at the same time never lose one another', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('revoke-race-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  const names = ['c1', 'c2', 'c3', 'c4', 'c5'];
  t.equal((await runCli(['certs', 'init', dir, ...names.flatMap((n) => ['--client', n])])).code, 0);
  const results = await Promise.all(names.map((n) => runCli(['certs', 'revoke', dir, n])));
  const done = names.filter((_, i) => results[i]?.code === 0);
  t.ok(
    results.every((r) => r.code === 0 || (r.code === 78 && /crl\.pem\.lock" exists/.test(r.stderr))),
    'each one succeeded or was refused by the lock',
  );
  t.ok(done.length >= 1);
  const crl = readCrl(dir);
  t.ok(crl.verified);
  t.equal(crl.number, done.length, 'one CRL Number per successful revoke');
  t.same(
    crl.serials.slice().sort(),
    done.map((n) => serialOf(join(dir, `${n}.crt`))).sort(),
    'every successful revoke is in the CRL',
  );
});
