// SIGHUP reloads at once, without waiting for --reload-interval (the built CLI, real signal, real TLS).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { makeTestPki, startRecordingUpstream } from '../helpers/gate-harness.js';
import { cliMissing, startCli, waitFor } from '../ops/lib/cli-process.js';

function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

t.test('SIGHUP reloads now', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const certPath = join(pki.dir, 'live.crt');
  const keyPath = join(pki.dir, 'live.key');
  copyFileSync(pki.server.cert, certPath);
  copyFileSync(pki.server.key, keyPath);
  const cli = await startCli([
    '--upstream',
    upstream.url,
    '--cert',
    certPath,
    '--key',
    keyPath,
    '--client-ca',
    pki.ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--reload-interval',
    '10m',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const next = makeLeaf(pki.dir, 'server-next', pki.ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const nextSerial = openssl(['x509', '-noout', '-serial', '-in', next.cert])
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();
  // Key first, then certificate: in between the pair does not match, which the interval would never see here.
  copyFileSync(next.key, keyPath);
  copyFileSync(next.cert, certPath);
  // A negative check: a reload nobody asked for (a file watcher, a short interval) would show within half a second.
  await new Promise((r) => setTimeout(r, 500));
  t.not(
    await servedSerial(cli.port, pki.ca.certPem),
    nextSerial,
    'no reload without the signal (interval is 10 minutes)',
  );
  cli.child.kill('SIGHUP');
  t.ok(
    await waitFor(async () => (await servedSerial(cli.port, pki.ca.certPem)) === nextSerial, 2000),
    'served right after SIGHUP',
  );
  const line = await cli.waitForLine((l) => l.msg === 'reloaded');
  t.equal(line.trigger, 'signal');
  t.equal(cli.child.exitCode, null, 'SIGHUP does not stop the process');
});
