// Private keys are written mode 0600, certificates 0644, and a new directory 0711 (enterable, not listable, by others).
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir, removeDir } from '../helpers/pki.js';
import { runCertsInit } from './run-certs-init.js';

const parent = makeTmpDir('devcerts-modes-');
t.teardown(() => removeDir(parent));
const dir = join(parent, 'nested', 'certs');
const previousUmask = process.umask(0o000);
t.teardown(() => {
  process.umask(previousUmask);
});

// A permissive umask proves the key mode is chosen explicitly rather than inherited.
await runCertsInit(dir, { clients: ['a'] });
const mode = (p: string): number => statSync(p).mode & 0o777;

t.equal(
  mode(dir),
  0o711,
  'created directory is 0711: a container uid can open the certificates by name, nobody else can list it',
);
for (const key of ['ca.key', 'server.key', 'a.key']) t.equal(mode(join(dir, key)), 0o600, `${key} is 0600`);
for (const crt of ['ca.crt', 'server.crt', 'a.crt']) t.equal(mode(join(dir, crt)), 0o644, `${crt} is 0644`);
