// --workers 2 keeps the single-process refusals: a port in use or a broken certificate exits 78 with a message
// naming the flag, decided by the primary before any worker is forked.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { makeTestPki } from '../helpers/gate-harness.js';
import { CLI_MAIN, cliMissing } from '../ops/lib/cli-process.js';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, 'run', '--metrics-listen', '127.0.0.1:0', '--allow-insecure-posture', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('port in use: exit 78 before forking', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    blocker.close();
    pki.cleanup();
  });
  const port = (blocker.address() as AddressInfo).port;
  const r = await runCli([
    '--listen', `127.0.0.1:${port}`, '--upstream', 'http://127.0.0.1:9', '--cert', pki.server.cert, '--key', pki.server.key,
    '--client-ca', pki.ca.cert, '--allow-any-verified', '--workers', '2',
  ]);
  t.equal(r.code, 78, 'exit 78');
  t.match(r.stderr, new RegExp(`--listen 127\\.0\\.0\\.1:${port}: cannot listen \\(EADDRINUSE\\)`), 'the message names the flag and the cause');
  t.equal(r.stderr.match(/cannot listen/g)?.length, 1, 'said once');
  t.notMatch(r.stdout, /starting workers/, 'no worker was forked');
});

t.test('unreadable certificate: exit 78 before forking', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  t.teardown(() => pki.cleanup());
  const broken = join(pki.dir, 'broken.crt');
  writeFileSync(broken, 'not a certificate\n');
  const r = await runCli([
    '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9', '--cert', broken, '--key', pki.server.key,
    '--client-ca', pki.ca.cert, '--allow-any-verified', '--workers', '2',
  ]);
  t.equal(r.code, 78, 'exit 78');
  t.match(r.stderr, /--cert/, 'the message names --cert');
  t.notMatch(r.stdout, /starting workers/, 'no worker was forked');
});
