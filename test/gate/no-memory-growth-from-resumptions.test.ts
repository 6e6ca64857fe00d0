// Resumed sessions grow nothing: the gate reads a resumed session's leaf with getPeerX509Certificate(), which leaks
// every certificate a client sent beyond its leaf, so the built proxy's RSS (from /proc, after a forced GC) must stay
// flat across thousands of resumptions of a client that sent an intermediate and a large junk certificate in its full
// handshake (were they still attached to the resumed session, each resumption would leak them: ~25 KB).
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls, { type SecureContext, type SecureVersion } from 'node:tls';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { makeChain, makeJunkCertificate, pemOf } from '../helpers/hostile-pki.js';
import { GC_ON_SIGNAL_ARGS, proxyArgs, rssMbAfterGc, startProxyProcess } from '../soak/lib/processes.mjs';

const RESUMPTIONS = Number(process.env.MTLS_LEAK_RESUMPTIONS ?? 5000);
t.setTimeout(900_000);
const MAX_GROWTH_MB = 30;
const CONCURRENCY = 8;

interface Outcome {
  resumed: boolean;
  status: number;
  session: Buffer | undefined;
}

/** One connection offering `session`, one GET with Connection: close; the latest ticket the server sent. */
function oneCall(port: number, secureContext: SecureContext, version: SecureVersion, session?: Buffer) {
  return new Promise<Outcome>((resolve) => {
    const out: Outcome = { resumed: false, status: 0, session: undefined };
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      secureContext,
      session,
      minVersion: version,
      maxVersion: version,
    });
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on('session', (s: Buffer) => {
      out.session = s;
    });
    socket.on('secureConnect', () => {
      out.resumed = socket.isSessionReused();
      socket.write('GET /resume HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    let head = '';
    socket.on('data', (c: Buffer) => {
      if (head.length < 32) head += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) out.status = Number(m[1]);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** `count` calls over CONCURRENCY loops, each loop resuming the session its own first call made. */
async function runResumptions(port: number, secureContext: SecureContext, version: SecureVersion, count: number) {
  const result = { calls: 0, resumed: 0, ok: 0 };
  let next = 0;
  const loop = async () => {
    let session: Buffer | undefined;
    while (next < count) {
      next += 1;
      const r = await oneCall(port, secureContext, version, session);
      session = r.session ?? session;
      result.calls += 1;
      if (r.resumed) result.resumed += 1;
      if (r.status === 200) result.ok += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return result;
}

t.test('RSS stays flat across resumed sessions of a client that sent extra certificates', async (t) => {
  const dir = makeTmpDir('mtls-resume-leak-');
  const root = makeCa(dir, 'Resume Leak Root CA');
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const chain = makeChain(dir, 'orders', { root, intermediates: 1 });
  const junk = makeJunkCertificate(dir, 'sent-along', 20 * 1024);
  let upstreamRequests = 0;
  const upstream = http.createServer((_req, res) => {
    upstreamRequests += 1;
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await startProxyProcess({
    nodeArgs: GC_ON_SIGNAL_ARGS,
    args: proxyArgs({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      cert: server.cert,
      key: server.key,
      clientCa: root.cert,
      extra: ['--allow-uri', 'spiffe://example.org/ns/prod/*'],
    }),
  });
  t.teardown(async () => {
    await proxy.stop('SIGKILL', 2000);
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    removeDir(dir);
  });
  // Leaf, intermediate and a ~20 KB junk certificate in every full handshake.
  const secureContext = tls.createSecureContext({
    ca: root.certPem,
    cert: `${chain.sentPem}${pemOf(junk)}`,
    key: chain.leaf.keyPem,
  });
  const figures: string[] = [];
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    // Until the heap and the allocator settle.
    await runResumptions(proxy.port, secureContext, version, 1000);
    const before = await rssMbAfterGc(proxy);
    const upstreamBefore = upstreamRequests;
    const r = await runResumptions(proxy.port, secureContext, version, RESUMPTIONS);
    const after = await rssMbAfterGc(proxy);
    figures.push(`${version}: RSS ${before.toFixed(1)} → ${after.toFixed(1)} MB over ${r.resumed} resumptions`);
    t.ok(proxy.alive(), `${version}: proxy still running`);
    t.equal(r.ok, RESUMPTIONS, `${version}: every call got its 200`);
    t.equal(upstreamRequests - upstreamBefore, RESUMPTIONS, `${version}: the upstream saw each request`);
    // Each loop's first call is a full handshake; every later one resumes.
    t.ok(r.resumed >= RESUMPTIONS - CONCURRENCY, `${version}: ${r.resumed} of ${RESUMPTIONS} calls resumed`);
    t.ok(after - before < MAX_GROWTH_MB, `${version}: RSS growth ${(after - before).toFixed(1)} MB < ${MAX_GROWTH_MB}`);
  }
  t.comment(`Node ${process.version}\n  ${figures.join('\n  ')}`);
});
