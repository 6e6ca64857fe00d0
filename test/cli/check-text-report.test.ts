// The readable `check` report has a section per stage with expiry in days, and never prints key or certificate
// material.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { readOpensslCert } from '../containment/helpers/openssl-fields.js';

/** The base64 body lines of a PEM file, long enough not to occur by chance. */
function pemBodyLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
}

t.test('text report', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-check-text-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca', { subject: '/O=Acme/CN=Text CA' });
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/O=Acme/CN=localhost',
    san: ['DNS:localhost'],
    eku: 'serverAuth',
    keyType: 'rsa',
  });
  const args = [
    'check',
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--client-ca',
    ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
  ];

  for (const extra of [[], ['--allow-insecure-posture']]) {
    const result = runCli([...args, ...extra]);
    const out = result.stdout;
    t.match(out, /^config: OK$/m);
    t.match(out, /^certificates: OK$/m);
    t.match(out, /^CRLs: none loaded$/m);
    t.match(out, /^policy: OK$/m);
    t.match(out, /^ {2}default \(from --allow-\* flags\): uri=spiffe:\/\/example\.org\/ns\/prod\/\*$/m);
    t.match(out, /^posture \(\d+ critical, \d+ warn, \d+ info\)/m);
    t.match(out, new RegExp(`server: ${readOpensslCert(server.cert).subject}`), 'server subject as openssl prints it');
    t.match(out, /not after \S+Z \(\d+ days left\)/);
    t.match(out, new RegExp(`serial ${readOpensslCert(ca.cert).serial}`), 'CA serial as openssl prints it');
    t.match(out, result.status === 0 ? /^result: OK/m : /^result: FAILED/m);

    const all = out + result.stderr;
    t.notMatch(all, /PRIVATE KEY|BEGIN CERTIFICATE/, 'no PEM blocks');
    for (const line of [...pemBodyLines(server.key), ...pemBodyLines(server.cert)]) {
      if (all.includes(line)) t.fail(`printed a line of a PEM file: ${line.slice(0, 12)}…`);
    }
  }
});
