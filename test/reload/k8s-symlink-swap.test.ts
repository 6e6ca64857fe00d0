// The server certificate is replaced by a Kubernetes-style `..data` symlink swap while a client keeps sending
// requests: the new serial is served within the reload interval plus one second and not one request fails.
import { mkdirSync, copyFileSync, renameSync, symlinkSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { makeLeaf, openssl, type CertFiles } from '../helpers/pki.js';
import { makeTestPki, startRecordingUpstream } from '../helpers/gate-harness.js';
import { cliMissing, startCli } from '../ops/lib/cli-process.js';
import { waitFor } from '../helpers/wait-for.js';

const INTERVAL_MS = 500;

/** Writes a secret version the way the kubelet does: a new timestamped dir, then an atomic `..data` rename. */
function publishVersion(dir: string, version: string, cert: CertFiles): void {
  const target = join(dir, version);
  mkdirSync(target);
  copyFileSync(cert.cert, join(target, 'tls.crt'));
  copyFileSync(cert.key, join(target, 'tls.key'));
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

function serialOf(file: string): string {
  return openssl(['x509', '-noout', '-serial', '-in', file])
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();
}

interface Sample {
  at: number;
  status: number;
  serial: string;
  error?: string;
}

function request(port: number, pki: ReturnType<typeof makeTestPki>, agent: https.Agent | false): Promise<Sample> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        path: '/orders',
        ca: pki.ca.certPem,
        cert: pki.client.certPem,
        key: pki.client.keyPem,
        agent,
      },
      (res) => {
        const serial =
          (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber?.toUpperCase() ?? '';
        res.resume();
        res.on('end', () => resolve({ at: Date.now(), status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ at: Date.now(), status: 0, serial: '', error: err.code ?? err.message }),
    );
    req.end();
  });
}

t.test('..data symlink swap under load', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const secret = join(pki.dir, 'secret');
  mkdirSync(secret);
  const oldCert = pki.server;
  const newCert = makeLeaf(pki.dir, 'server-v2', pki.ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  publishVersion(secret, '..2026_01_01_00_00_00.000000001', oldCert);
  symlinkSync('..data/tls.crt', join(secret, 'tls.crt'));
  symlinkSync('..data/tls.key', join(secret, 'tls.key'));
  const cli = await startCli([
    '--upstream',
    upstream.url,
    '--cert',
    join(secret, 'tls.crt'),
    '--key',
    join(secret, 'tls.key'),
    '--client-ca',
    pki.ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--reload-interval',
    `${INTERVAL_MS}ms`,
  ]);
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(async () => {
    keepAlive.destroy();
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const oldSerial = serialOf(oldCert.cert);
  const newSerial = serialOf(newCert.cert);
  t.not(oldSerial, newSerial);

  const fresh: Sample[] = [];
  const reused: Sample[] = [];
  let swappedAt = 0;
  const loop = async (out: Sample[], agent: https.Agent | false): Promise<void> => {
    // Bounded: stops 2 s after the swap, or after 2000 requests whatever happens.
    for (let i = 0; i < 2000; i++) {
      out.push(await request(cli.port, pki, agent));
      if (swappedAt > 0 && Date.now() - swappedAt > INTERVAL_MS + 1500) return;
    }
  };
  const loops = Promise.all([loop(fresh, false), loop(reused, keepAlive)]);
  // Swap once both loops have been answered a few times with the old certificate (not after a fixed pause).
  await waitFor(() => fresh.length >= 5 && reused.length >= 5, {
    timeoutMs: 30_000,
    what: 'five requests of each loop before the swap',
  });
  publishVersion(secret, '..2026_01_02_00_00_00.000000002', newCert);
  swappedAt = Date.now();
  await loops;

  const failures = [...fresh, ...reused].filter((s) => s.status !== 200);
  t.same(failures, [], 'not one request failed during the swap');
  t.ok(
    fresh.filter((s) => s.at < swappedAt).every((s) => s.serial === oldSerial),
    'the old serial before the swap',
  );
  const firstNew = fresh.find((s) => s.serial === newSerial);
  t.ok(firstNew, 'the new serial is served');
  t.ok(
    firstNew && firstNew.at - swappedAt <= INTERVAL_MS + 1000,
    `served within interval + 1 s (took ${firstNew ? firstNew.at - swappedAt : '-'} ms)`,
  );
  const afterFirst = fresh.slice(fresh.indexOf(firstNew as Sample));
  t.ok(
    afterFirst.every((s) => s.serial === newSerial),
    'every new connection after that gets the new certificate',
  );

  // Independent check with the openssl client.
  const shown = openssl(
    [
      's_client',
      '-connect',
      `127.0.0.1:${cli.port}`,
      '-servername',
      'localhost',
      '-cert',
      pki.client.cert,
      '-key',
      pki.client.key,
      '-CAfile',
      pki.ca.cert,
      '-showcerts',
    ],
    '',
  );
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(shown)?.[0] ?? '';
  t.equal(
    openssl(['x509', '-noout', '-serial'], pem)
      .trim()
      .replace(/^serial=/, '')
      .toUpperCase(),
    newSerial,
    'openssl s_client sees the new serial',
  );

  const reload = cli.lines().find((l) => l.msg === 'reloaded');
  t.ok(reload, 'the reload is logged');
  t.notMatch(JSON.stringify(cli.lines()), /BEGIN|PRIVATE KEY/, 'no key or certificate material in the log');
});
