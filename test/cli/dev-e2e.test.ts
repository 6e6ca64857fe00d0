// `mtls-sidecar dev` end to end: start it, paste the curl command it prints, get the echoed identity back.
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

const run = promisify(execFile);
const MAIN = resolve('dist/main.js');

t.test('dev prints a curl command that works when pasted', async (t) => {
  const cwd = makeTmpDir('mtls-dev-e2e-');
  const child = spawn(process.execPath, [MAIN, 'dev', '--listen', '127.0.0.1:0', '--metrics-listen', 'off'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
    removeDir(cwd);
  });

  const deadline = Date.now() + 30_000;
  while (!/^\s+curl .*$/m.test(stdout) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const line = /^\s+(curl .*)$/m.exec(stdout)?.[1];
  if (!t.ok(line, 'printed a curl command')) {
    t.comment(stdout, stderr);
    return;
  }
  const { stdout: body } = await run('sh', ['-c', line!], { cwd: makeTmpDir('mtls-dev-elsewhere-') });
  const echoed = JSON.parse(body) as { path: string; headers: Record<string, string> };
  t.equal(echoed.path, '/hello');
  const clientCert = join(cwd, '.mtls-dev', 'dev-client.crt');
  const subject = openssl(['x509', '-in', clientCert, '-noout', '-subject', '-nameopt', 'RFC2253'])
    .trim()
    .replace(/^subject=/, '');
  t.equal(echoed.headers['x-client-subject'], subject, 'subject as openssl prints it');
  t.equal(echoed.headers['x-client-uri'], 'spiffe://mtls-sidecar.dev/client/dev-client');
  const fp = openssl(['x509', '-in', clientCert, '-noout', '-fingerprint', '-sha256'])
    .trim()
    .split('=')[1]!
    .replace(/:/g, '')
    .toLowerCase();
  t.equal(echoed.headers['x-client-fingerprint-sha256'], fp, 'fingerprint as openssl prints it');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0 on SIGTERM');
});
