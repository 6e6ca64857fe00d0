// ensureDevMaterial creates the dev set once, reuses it byte for byte, and replaces an incomplete set whole.
import t from 'tap';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { ensureDevMaterial } from '../../src/devcerts/dev-material.js';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

const parent = makeTmpDir('devcerts-dev-');
t.teardown(() => removeDir(parent));
const dir = join(parent, '.mtls-dev');
const roles = ['caCert', 'caKey', 'serverCert', 'serverKey', 'clientCert', 'clientKey'] as const;

const first = await ensureDevMaterial(relative(process.cwd(), dir));
const read = (m: typeof first): string[] => roles.map((r) => readFileSync(m[r], 'utf8'));

t.test('first call creates a complete set with absolute paths', async (t) => {
  t.equal(first.status, 'created');
  t.equal(first.dir, dir);
  for (const r of roles) t.ok(isAbsolute(first[r]), `${r} absolute`);
  t.equal(first.clientName, 'dev-client');
  t.equal(first.clientUri, 'spiffe://mtls-sidecar.dev/client/dev-client');
  for (const r of ['caKey', 'serverKey', 'clientKey'] as const) t.equal(statSync(first[r]).mode & 0o777, 0o600);
});

t.test('openssl sees the dev server hosts and the client SPIFFE ID', async (t) => {
  t.match(openssl(['verify', '-CAfile', first.caCert, '-purpose', 'sslserver', first.serverCert]), /: OK/);
  t.match(openssl(['verify', '-CAfile', first.caCert, '-purpose', 'sslclient', first.clientCert]), /: OK/);
  const san = openssl(['x509', '-in', first.serverCert, '-noout', '-ext', 'subjectAltName']);
  t.match(san, /DNS:localhost/);
  t.match(san, /IP Address:127\.0\.0\.1/);
  t.match(san, /IP Address:0:0:0:0:0:0:0:1/);
  const client = openssl([
    'x509',
    '-in',
    first.clientCert,
    '-noout',
    '-ext',
    'subjectAltName',
    '-subject',
    '-nameopt',
    'RFC2253',
  ]);
  t.match(client, /URI:spiffe:\/\/mtls-sidecar\.dev\/client\/dev-client/);
  t.match(client, /CN=dev-client/);
});

t.test('second call reuses the same bytes', async (t) => {
  const before = read(first);
  const second = await ensureDevMaterial(dir);
  t.equal(second.status, 'reused');
  t.same(read(second), before);
});

t.test('an incomplete set is regenerated whole, and says why', async (t) => {
  const before = read(first);
  rmSync(first.clientKey);
  const third = await ensureDevMaterial(dir);
  t.equal(third.status, 'regenerated');
  t.match(third.summary, 'dev-client.key');
  const after = read(third);
  for (const [i, r] of roles.entries()) t.not(after[i], before[i], `${r} replaced`);
  t.match(
    openssl(['verify', '-CAfile', third.caCert, third.serverCert, third.clientCert]),
    /server\.crt: OK[\s\S]*dev-client\.crt: OK/,
  );
});

t.test('a key that does not match its certificate is not reused', async (t) => {
  const current = await ensureDevMaterial(dir);
  t.equal(current.status, 'reused');
  writeFileSync(current.serverKey, readFileSync(current.clientKey));
  const fixed = await ensureDevMaterial(dir);
  t.equal(fixed.status, 'regenerated');
  t.match(fixed.summary, 'does not match');
});
