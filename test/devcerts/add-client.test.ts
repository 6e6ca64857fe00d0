// `certs add-client DIR NAME` issues one more client from the existing CA: openssl verifies it, keys are 0600, the CA
// is never touched, an existing client is refused (exit 78, files listed) unless --force, and bad input is refused.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cliMissing } from '../ops/lib/cli-process.js';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { runCli } from './run-cli.js';

t.test('add-client', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('add-client-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  t.equal((await runCli(['certs', 'init', dir, '--client', 'orders'])).code, 0);
  const caBefore = {
    crt: readFileSync(join(dir, 'ca.crt')),
    key: readFileSync(join(dir, 'ca.key')),
    mtime: statSync(join(dir, 'ca.key')).mtimeMs,
  };

  const added = await runCli([
    'certs',
    'add-client',
    dir,
    'billing',
    '--uri',
    'spiffe://example.org/ns/prod/sa/billing',
    '--dns',
    'billing.internal',
  ]);
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /billing\.key {2}\(private key, mode 0600\)/);
  const crt = join(dir, 'billing.crt');
  t.match(
    openssl(['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', crt]),
    /: OK/,
    'openssl verifies the chain and clientAuth',
  );
  const text = openssl([
    'x509',
    '-in',
    crt,
    '-noout',
    '-subject',
    '-ext',
    'subjectAltName,extendedKeyUsage',
    '-nameopt',
    'RFC2253',
  ]);
  t.match(text, /subject=CN=billing,O=mtls-sidecar development/);
  t.match(text, /URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/billing, DNS:billing\.internal/);
  t.match(text, /TLS Web Client Authentication/);
  t.equal(statSync(join(dir, 'billing.key')).mode & 0o777, 0o600, 'key 0600');
  t.equal(statSync(crt).mode & 0o777, 0o644, 'certificate 0644');
  const keyMod = openssl(['pkey', '-in', join(dir, 'billing.key'), '-pubout']);
  t.equal(openssl(['x509', '-in', crt, '-noout', '-pubkey']), keyMod, 'key belongs to the certificate');

  const again = await runCli(['certs', 'add-client', dir, 'billing']);
  t.equal(again.code, 78, 'an existing client is refused');
  t.match(again.stderr, /billing\.crt" already exists|billing\.crt already exists/);
  t.match(again.stderr, /billing\.key.* already exists/);
  const serialBefore = openssl(['x509', '-in', crt, '-noout', '-serial']).trim().replace('serial=', '');
  t.equal(readFileSync(crt, 'utf8'), readFileSync(crt, 'utf8'));

  const forced = await runCli(['certs', 'add-client', dir, 'billing', '--force']);
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stdout, new RegExp(`serial ${serialBefore}\\) stays valid`), 'names the replaced serial');
  t.match(forced.stdout, new RegExp(`certs revoke .* --serial ${serialBefore}`), 'and how to revoke it');
  t.not(openssl(['x509', '-in', crt, '-noout', '-serial']).trim(), `serial=${serialBefore}`, 'a new certificate');

  t.same(readFileSync(join(dir, 'ca.crt')), caBefore.crt, 'CA certificate untouched');
  t.same(readFileSync(join(dir, 'ca.key')), caBefore.key, 'CA key untouched');
  t.equal(statSync(join(dir, 'ca.key')).mtimeMs, caBefore.mtime);
  t.same(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

t.test('add-client refuses bad input and a missing CA (exit 78)', { skip: cliMissing() }, async (t) => {
  const parent = makeTmpDir('add-client-bad-');
  t.teardown(() => removeDir(parent));
  const dir = join(parent, 'pki');
  const none = await runCli(['certs', 'add-client', dir, 'x']);
  t.equal(none.code, 78);
  t.match(none.stderr, /ca\.crt": does not exist; .*certs init/);
  t.equal((await runCli(['certs', 'init', dir])).code, 0);
  for (const [args, message] of [
    [['../escape'], /NAME: "\.\.\/escape" cannot be used as a file name/],
    [['ca'], /NAME: "ca" would overwrite ca\.crt/],
    [['x', '--uri', 'not a uri'], /--uri: "not a uri" is not an absolute ASCII URI/],
    [['x', '--dns', 'bad name!'], /--dns: "bad name!" is not a DNS name/],
  ] as Array<[string[], RegExp]>) {
    const r = await runCli(['certs', 'add-client', dir, ...args]);
    t.equal(r.code, 78, args.join(' '));
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  t.same(readdirSync(dir).sort(), ['ca.crt', 'ca.key', 'client.crt', 'client.key', 'server.crt', 'server.key']);
});
