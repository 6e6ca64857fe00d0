// Regression: a TCP connection accepted before a client-CA reload, handshaking after it, is judged by the CAs in force
// now.
import t from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

t.test('a CA removed by a reload cannot admit a socket opened just before it', async (t) => {
  const pki = makeTestPki();
  const other = makeCa(pki.dir, 'Other CA');
  const mallory = makeLeaf(pki.dir, 'mallory', other, { san: ['URI:spiffe://example.org/ns/prod/sa/mallory'] });
  const bundle = join(pki.dir, 'bundle.pem');
  writeFileSync(bundle, pki.ca.certPem + other.certPem);
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { clientCa: [bundle] }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    // Restore the two-CA bundle, then open the TCP connection while both CAs are trusted.
    writeFileSync(bundle, pki.ca.certPem + other.certPem);
    proxy.reload('manual');
    const raw = net.connect(proxy.port, '127.0.0.1');
    await new Promise<void>((r) => raw.once('connect', () => r()));
    writeFileSync(bundle, pki.ca.certPem);
    const result = proxy.reload('manual');
    t.ok(result, 'reload ran');
    const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'unknown_ca' });
    const received = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const socket = tls.connect({
        socket: raw,
        servername: 'localhost',
        ca: pki.ca.certPem,
        cert: mallory.certPem,
        key: mallory.keyPem,
        maxVersion: version,
        minVersion: version,
      });
      socket.on('secureConnect', () => socket.write('GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      setTimeout(() => socket.destroy(), 2000);
    });
    t.equal(received, '', `${version}: no response on the old-context socket`);
    const after = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'unknown_ca' });
    t.equal(after - before, 1, `${version}: counted as unknown_ca`);
  }
  t.equal(upstream.received.length, 0, 'upstream received nothing');
});
