// `inspect` on a missing, unreadable or non-certificate FILE exits 1 with one line naming the file and the fix, no
// stack trace and no file contents.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

t.test('bad FILE', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-inspect-bad-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const csr = join(dir, 'req.csr');
  openssl(['req', '-new', '-key', ca.key, '-subj', '/CN=req', '-out', csr]);
  const garbage = join(dir, 'garbage.bin');
  writeFileSync(garbage, Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256)));
  const empty = join(dir, 'empty.pem');
  writeFileSync(empty, '');
  const truncated = join(dir, 'truncated.pem');
  writeFileSync(truncated, ca.certPem.slice(0, 200));
  const directory = join(dir, 'a-directory');
  mkdirSync(directory);

  const cases: [string, string, RegExp][] = [
    ['missing file', join(dir, 'nope.crt'), /cannot read \(ENOENT\)/],
    ['a directory', directory, /cannot read \(EISDIR\)/],
    ['a private key', ca.key, /PRIVATE KEY, no "CERTIFICATE"; give the certificate file/],
    ['a certificate request', csr, /CERTIFICATE REQUEST, no "CERTIFICATE"/],
    ['random bytes', garbage, /neither a PEM nor a DER certificate/],
    ['an empty file', empty, /neither a PEM nor a DER certificate/],
    ['a truncated PEM', truncated, /no complete PEM block/],
  ];
  for (const [name, file, reason] of cases) {
    const result = runCli(['inspect', file]);
    t.equal(result.status, 1, `${name}: exit 1`);
    t.equal(result.stdout, '', `${name}: nothing on stdout`);
    t.match(result.stderr, `inspect ${file}: `, `${name}: names the file`);
    t.match(result.stderr, reason, `${name}: says why`);
    t.notMatch(result.stderr, /\n\s+at .+:\d+:\d+|unexpected error/, `${name}: no stack trace`);
    t.notMatch(result.stderr, /MII|-----BEGIN/, `${name}: no file contents`);
  }
});
