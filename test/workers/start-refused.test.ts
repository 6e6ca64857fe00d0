// --workers 2 keeps the single-process refusals: a port in use or a broken certificate exits 78 with a message
// naming the flag, decided by the primary before any worker is forked; a worker that still cannot start
// (the port taken between the primary's check and the workers' listen) stops the primary with 78 too.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { makeTestPki } from '../helpers/gate-harness.js';
import { CLI_MAIN, cliMissing } from '../ops/lib/cli-process.js';

function runCli(
  args: string[],
  onStdout?: (text: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI_MAIN, 'run', '--metrics-listen', '127.0.0.1:0', '--allow-insecure-posture', ...args],
      { env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      onStdout?.(stdout);
    });
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
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    pki.server.cert,
    '--key',
    pki.server.key,
    '--client-ca',
    pki.ca.cert,
    '--allow-any-verified',
    '--workers',
    '2',
  ]);
  t.equal(r.code, 78, 'exit 78');
  t.match(
    r.stderr,
    new RegExp(`--listen 127\\.0\\.0\\.1:${port}: cannot listen \\(EADDRINUSE\\)`),
    'the message names the flag and the cause',
  );
  t.equal(r.stderr.match(/cannot listen/g)?.length, 1, 'said once');
  t.notMatch(r.stdout, /starting workers/, 'no worker was forked');
});

t.test('unreadable certificate: exit 78 before forking', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  t.teardown(() => pki.cleanup());
  const broken = join(pki.dir, 'broken.crt');
  writeFileSync(broken, 'not a certificate\n');
  const r = await runCli([
    '--listen',
    '127.0.0.1:0',
    '--upstream',
    'http://127.0.0.1:9',
    '--cert',
    broken,
    '--key',
    pki.server.key,
    '--client-ca',
    pki.ca.cert,
    '--allow-any-verified',
    '--workers',
    '2',
  ]);
  t.equal(r.code, 78, 'exit 78');
  t.match(r.stderr, /--cert/, 'the message names --cert');
  t.notMatch(r.stdout, /starting workers/, 'no worker was forked');
});

t.test('a worker that cannot listen: the primary stops the others and exits 78', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  let blocker: net.Server | undefined;
  t.teardown(() => {
    blocker?.close();
    pki.cleanup();
  });
  // The primary has checked the port when it logs "starting workers"; the workers take far longer than this
  // test to load their modules and listen, so the port is taken in between.
  const r = await runCli(
    [
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      pki.server.cert,
      '--key',
      pki.server.key,
      '--client-ca',
      pki.ca.cert,
      '--allow-any-verified',
      '--workers',
      '2',
    ],
    (stdout) => {
      if (!blocker && stdout.includes('"starting workers"')) blocker = net.createServer().listen(port, '127.0.0.1');
    },
  );
  t.ok(blocker, 'the port was taken after the primary checked it');
  t.equal(r.code, 78, 'exit 78');
  t.match(r.stderr, /cannot listen \(EADDRINUSE\)/, "the worker's own message says why");
  t.match(r.stderr, /--workers 2: a worker could not start/, 'the primary says it stopped');
  t.notMatch(r.stdout, /"all workers ready"/);
});
