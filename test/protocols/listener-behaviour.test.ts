// The HTTP/2-capable listener keeps HTTP/1.1 behaviour (keep-alive, headers and idle timeouts, Host required) and
// offers h2 by ALPN, also after a reload.
import t from 'tap';
import tls from 'node:tls';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import { loadTlsMaterial } from '../../src/state/material.js';
import { buildSecureContextOptions } from '../../src/state/secure-context.js';
import {
  baseConfig,
  makeTestPki,
  startGateStack,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';

/** Opens a TLS connection; resolves with everything received and how long until the server closed it. */
function holdConnection(
  pki: TestPki,
  port: number,
  writes: Array<{ at: number; data: string }>,
  maxMs: number,
): Promise<{ received: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      ALPNProtocols: ['http/1.1'],
    });
    const timers = writes.map((w) => setTimeout(() => socket.write(w.data), w.at));
    const guard = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks).toString('latin1'), closedAfterMs: null });
    }, maxMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      timers.forEach(clearTimeout);
      resolve({ received: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - started });
    });
  });
}

/** What the openssl CLI (an independent TLS client) negotiated; asynchronous, as the proxy runs in this process. */
function alpnOf(port: number, pki: TestPki, offer: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'localhost',
        '-CAfile',
        pki.ca.cert,
        '-cert',
        pki.client.cert,
        '-key',
        pki.client.key,
        '-alpn',
        offer,
      ],
      { timeout: 10_000 },
      (_err, stdout) =>
        resolve(/ALPN protocol: (\S+)/.exec(stdout)?.[1] ?? (/No ALPN negotiated/.test(stdout) ? 'none' : '?')),
    );
    child.stdin?.end();
  });
}

t.test('HTTP/1.1 on the HTTP/2 listener', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { headersTimeoutMs: 600, idleTimeoutMs: 800 });
  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

  const keepAlive = await holdConnection(
    pki,
    proxy.port,
    [
      { at: 0, data: get('/one') },
      { at: 150, data: get('/two') },
    ],
    5000,
  );
  t.equal((keepAlive.received.match(/HTTP\/1\.1 200 /g) ?? []).length, 2, 'two requests answered on one connection');
  t.ok(
    keepAlive.closedAfterMs !== null && keepAlive.closedAfterMs >= 800 && keepAlive.closedAfterMs < 3000,
    `idle keep-alive closed after --idle-timeout (${keepAlive.closedAfterMs} ms)`,
  );

  const slow = await holdConnection(pki, proxy.port, [{ at: 0, data: 'GET /slow HTTP/1.1\r\nHost: local' }], 5000);
  t.ok(
    slow.closedAfterMs !== null && slow.closedAfterMs >= 500 && slow.closedAfterMs < 3000,
    `slow headers cut after --headers-timeout (${slow.closedAfterMs} ms)`,
  );
  t.notMatch(slow.received, /200 OK/);

  const noHost = await holdConnection(pki, proxy.port, [{ at: 0, data: 'GET /x HTTP/1.1\r\n\r\n' }], 3000);
  t.match(noHost.received, /^HTTP\/1\.1 400 /, 'HTTP/1.1 without Host refused, as http.Server does');
  t.same(
    upstream.received.map((r) => r.url),
    ['/one', '/two'],
  );
});

t.test(
  'ALPN offers h2 and http/1.1, also after the secure context is replaced; idle h2 sessions are closed',
  async (t) => {
    const pki = makeTestPki();
    const upstream = await startRecordingUpstream();
    const config = baseConfig(pki, upstream.url, { idleTimeoutMs: 700 });
    const proxy = await startTestProxy(config);
    t.teardown(async () => {
      await proxy.close(100);
      await upstream.close();
      pki.cleanup();
    });
    t.equal(await alpnOf(proxy.port, pki, 'h2,http/1.1'), 'h2');
    t.equal(await alpnOf(proxy.port, pki, 'http/1.1'), 'http/1.1');
    // What the reloader does on a certificate change.
    const material = loadTlsMaterial({ cert: config.cert, key: config.key, clientCa: config.clientCa, crl: [] });
    proxy.proxy.server.setSecureContext(buildSecureContextOptions(material, config));
    t.equal(await alpnOf(proxy.port, pki, 'h2,http/1.1'), 'h2', 'h2 still offered after setSecureContext');

    const session = http2.connect(`https://localhost:${proxy.port}`, {
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      host: '127.0.0.1',
      servername: 'localhost',
    });
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const guard = setTimeout(() => resolve(-1), 5000);
      session.on('error', () => undefined);
      session.once('close', () => {
        clearTimeout(guard);
        resolve(Date.now() - started);
      });
    });
    session.destroy();
    t.ok(
      closedAfter >= 600 && closedAfter < 3000,
      `an idle HTTP/2 session is closed after --idle-timeout (${closedAfter} ms)`,
    );
  },
);
