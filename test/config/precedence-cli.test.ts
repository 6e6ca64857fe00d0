// Precedence as the built CLI reports it: the value that won, under the name it came from (in-process cases:
// test/unit/config/precedence).
import t from 'tap';
import { makeTempFiles, runCli } from './fixtures.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

t.test('the built CLI reports the value that won, under the name it came from', async (t) => {
  const config = files.write('workers.yaml', 'workers: 0\n');
  const env = { MTLS_SIDECAR_CONFIG: config, MTLS_SIDECAR_WORKERS: 'many' };
  const fromFlag = runCli(['run', '--workers', 'lots'], env);
  t.equal(fromFlag.status, 78);
  t.match(fromFlag.stderr, /--workers: expected a whole number .*"lots"/);
  t.notMatch(fromFlag.stderr, /MTLS_SIDECAR_WORKERS:|workers in /);
  const fromEnv = runCli([], env);
  t.equal(fromEnv.status, 78);
  t.match(fromEnv.stderr, /MTLS_SIDECAR_WORKERS: expected a whole number .*"many"/);
  const fromFile = runCli(['run'], { MTLS_SIDECAR_CONFIG: config });
  t.equal(fromFile.status, 78);
  t.match(fromFile.stderr, `workers in ${config}: 0 is out of range`);
});
