// A second `certs init` into the same directory refuses (exit 78) and changes nothing; --force replaces.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { makeTmpDir, removeDir } from '../helpers/pki.js';
import { runCertsInit } from './run-certs-init.js';

const dir = makeTmpDir('devcerts-overwrite-');
t.teardown(() => removeDir(dir));

await runCertsInit(dir, { clients: ['svc'] });
const snapshot = (): Map<string, Buffer> =>
  new Map(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(join(dir, n))]),
  );
const before = snapshot();

t.test('without --force: refused, names the files and the flag, nothing changes', async (t) => {
  const err = await runCertsInit(dir, { clients: ['svc'] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ConfigError, 'a ConfigError');
  const e = err as ConfigError;
  t.equal(e.exitCode, 78);
  t.match(e.message, join(dir, 'ca.key'));
  t.match(e.message, join(dir, 'svc.crt'));
  t.match(e.message, '--force');
  t.same(snapshot(), before, 'every file byte-identical, no temp files left');
});

t.test('refused when only some targets exist; the new names are not written either', async (t) => {
  const err = await runCertsInit(dir, { clients: ['other'] }).catch((e: unknown) => e);
  t.ok(err instanceof ConfigError);
  t.same(snapshot(), before, 'other.crt/other.key were not written either');
});

t.test('with --force: every file replaced, keys still 0600, no temp files', async (t) => {
  await runCertsInit(dir, { clients: ['svc'], force: true });
  const after = snapshot();
  t.same([...after.keys()], [...before.keys()]);
  for (const [name, bytes] of after)
    t.not(bytes.equals(before.get(name) ?? Buffer.alloc(0)), true, `${name} rewritten`);
  for (const key of ['ca.key', 'server.key', 'svc.key']) t.equal(statSync(join(dir, key)).mode & 0o777, 0o600);
});
