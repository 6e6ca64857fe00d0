// Garbage written over the certificate (and then a certificate that does not match the key) is refused: the old
// certificate keeps serving, each broken version counts once in reloads_total{result="failure"}; a good pair then
// loads.
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, opsGet, sampleValue, startCli, waitFor } from '../ops/lib/cli-process.js';

function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const serialOf = (file: string): string =>
  openssl(['x509', '-noout', '-serial', '-in', file])
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();

t.test('a broken certificate file is refused and the old one keeps serving', { skip: cliMissing() }, async (t) => {
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
    '200ms',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const failures = async (): Promise<number> =>
    sampleValue((await opsGet(cli.metricsPort, '/metrics')).body, 'mtls_sidecar_reloads_total', { result: 'failure' });
  const caller = {
    port: cli.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/orders',
  };
  const original = serialOf(pki.server.cert);
  t.equal(await failures(), 0);

  // A half-written file: the first bytes of a PEM, then garbage.
  // Written whole and renamed into place, so a reload tick never reads a truncated intermediate state
  // (that would be a second, different broken content, rightly counted again).
  writeFileSync(`${certPath}.tmp`, `${pki.server.certPem.slice(0, 200)}\x00\x01garbage`);
  renameSync(`${certPath}.tmp`, certPath);
  t.ok(await waitFor(async () => (await failures()) === 1, 5000), 'counted as one failed reload');
  // A negative check over three reload ticks (200 ms each): a failure counted per tick would show here.
  await new Promise((r) => setTimeout(r, 600));
  t.equal(await failures(), 1, 'the same broken content is not counted again on every tick');
  t.equal(await servedSerial(cli.port, pki.ca.certPem), original, 'the old certificate still serves new connections');
  t.equal((await httpsRequest(caller)).status, 200, 'requests still succeed');
  const refused = cli.lines().find((l) => l.msg === 'reload refused; the current certificates and policy keep serving');
  t.match(JSON.stringify(refused?.problems), /--cert/, 'the log names the flag at fault');

  // A valid certificate for a different key: mismatched pair, refused too.
  const other = makeLeaf(pki.dir, 'other-server', pki.ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
    days: 90,
  });
  copyFileSync(other.cert, `${certPath}.tmp`);
  renameSync(`${certPath}.tmp`, certPath);
  t.ok(await waitFor(async () => (await failures()) === 2, 5000), 'a key mismatch counts as a failed reload');
  t.equal(await servedSerial(cli.port, pki.ca.certPem), original, 'still the old certificate');

  // The matching key arrives: the pair loads.
  copyFileSync(other.key, `${keyPath}.tmp`);
  renameSync(`${keyPath}.tmp`, keyPath);
  t.ok(
    await waitFor(async () => (await servedSerial(cli.port, pki.ca.certPem)) === serialOf(other.cert), 5000),
    'the new pair is served',
  );
  const body = (await opsGet(cli.metricsPort, '/metrics')).body;
  t.equal(sampleValue(body, 'mtls_sidecar_reloads_total', { result: 'success' }), 1);
  t.equal(sampleValue(body, 'mtls_sidecar_reloads_total', { result: 'failure' }), 2);
  t.equal((await httpsRequest(caller)).status, 200);
  const enddate = openssl(['x509', '-noout', '-enddate', '-in', other.cert])
    .trim()
    .replace(/^notAfter=/, '');
  t.equal(
    sampleValue(body, 'mtls_sidecar_certificate_not_after_seconds', { role: 'server', subject: 'CN=localhost' }),
    Date.parse(enddate) / 1000,
    'certificate_not_after_seconds follows the reloaded certificate (openssl -enddate)',
  );
});
