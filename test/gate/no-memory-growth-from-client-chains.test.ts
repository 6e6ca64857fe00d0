// Nothing a client sends grows the proxy's memory: the built proxy's RSS (from /proc, after a forced GC) stays flat
// across thousands of handshakes with junk, oversized and real chains.
import t from 'tap';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { makeCert, makeChain, makeJunkCertificate, makeJunkCertificates, pemOf } from '../helpers/hostile-pki.js';
import { runHandshakes } from '../soak/lib/handshake-loop.mjs';
import { freePort, GC_ON_SIGNAL_ARGS, proxyArgs, rssMbAfterGc, startProxyProcess } from '../soak/lib/processes.mjs';

const HANDSHAKES = Number(process.env.MTLS_LEAK_HANDSHAKES ?? 5000);
// 18,000 full handshakes (three shapes, each with its warm-up) take one to several minutes on a busy 2-core machine.
t.setTimeout(900_000);
const MAX_GROWTH_MB = 30;
const LEAK_GUARD_MB = 100;

/** User + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function failures(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('mtls_sidecar_tls_handshake_failures_total{'))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

t.test('RSS stays flat across handshakes with hostile and chained client certificates', async (t) => {
  const dir = makeTmpDir('mtls-leak-');
  const root = makeCa(dir, 'Leak Root CA');
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const chained = makeChain(dir, 'orders', { root, intermediates: 1 });
  const rogue = makeCert(dir, 'rogue-ca', { ca: true, subject: '/CN=Rogue CA', days: 30 });
  const untrusted = makeCert(dir, 'untrusted', {
    issuer: rogue,
    extraExtLines: ['subjectAltName = URI:spiffe://example.org/ns/prod/sa/x'],
  });
  const bigJunk = makeJunkCertificate(dir, 'big-junk', 55 * 1024);
  const junk = makeJunkCertificates(dir, 'j', 99);
  let upstreamRequests = 0;
  const upstream = http.createServer((req, res) => {
    upstreamRequests += 1;
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const metricsPort = await freePort();
  const proxy = await startProxyProcess({
    nodeArgs: GC_ON_SIGNAL_ARGS,
    args: proxyArgs({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      cert: server.cert,
      key: server.key,
      clientCa: root.cert,
      metricsListen: `127.0.0.1:${metricsPort}`,
      extra: ['--allow-uri', 'spiffe://example.org/ns/prod/*'],
    }),
  });
  t.teardown(async () => {
    await proxy.stop('SIGKILL', 2000);
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    removeDir(dir);
  });
  const shapes = [
    {
      name: 'untrusted leaf + one ~55 KB junk certificate',
      cert: pemOf(untrusted, bigJunk),
      key: untrusted.keyPem,
      admitted: false,
    },
    {
      name: 'untrusted leaf + 99 junk certificates',
      cert: pemOf(untrusted, ...junk),
      key: untrusted.keyPem,
      admitted: false,
    },
    {
      name: 'trusted leaf + intermediate (only the root loaded)',
      cert: chained.sentPem,
      key: chained.leaf.keyPem,
      admitted: true,
    },
  ];
  const figures: string[] = [];
  for (const shape of shapes) {
    const client = { port: proxy.port, ca: root.certPem, cert: shape.cert, key: shape.key, request: shape.admitted };
    // Until the heap and the allocator settle (an admitted connection also runs a request through the HTTP stack).
    await runHandshakes({ ...client, count: 1000 });
    const before = await rssMbAfterGc(proxy);
    const failuresBefore = await failures(metricsPort);
    const upstreamBefore = upstreamRequests;
    const started = Date.now();
    const cpuBefore = cpuSeconds(proxy.pid);
    const result = await runHandshakes({ ...client, count: HANDSHAKES });
    const cpuMs = ((cpuSeconds(proxy.pid) - cpuBefore) * 1000) / HANDSHAKES;
    const seconds = (Date.now() - started) / 1000;
    const after = await rssMbAfterGc(proxy);
    const refused = (await failures(metricsPort)) - failuresBefore;
    figures.push(
      `${shape.name}: RSS ${before.toFixed(1)} → ${after.toFixed(1)} MB after ${HANDSHAKES} handshakes in ${seconds.toFixed(1)} s, proxy CPU ${cpuMs.toFixed(2)} ms each`,
    );
    t.ok(proxy.alive(), `${shape.name}: proxy still running`);
    if (shape.admitted) {
      t.equal(result.statuses['200'], HANDSHAKES, `${shape.name}: every connection got its 200`);
      t.equal(upstreamRequests - upstreamBefore, HANDSHAKES, `${shape.name}: the upstream saw each request`);
    } else {
      t.equal(refused, HANDSHAKES, `${shape.name}: every handshake refused, counted by the proxy`);
      t.equal(upstreamRequests - upstreamBefore, 0, `${shape.name}: the upstream saw nothing`);
    }
    // The leak this guards against grew 355 MB (55 KB junk) and ~2 GB (99 junk) over 5,000 handshakes.
    t.ok(
      after - before < LEAK_GUARD_MB,
      `${shape.name}: RSS growth ${(after - before).toFixed(1)} MB < ${LEAK_GUARD_MB} MB (no per-certificate leak)`,
    );
    // Refused shapes still grew 37–57 MB per 5,000 on a busy machine (a bare Node TLS server grows too): not met yet.
    t.ok(
      after - before < MAX_GROWTH_MB,
      `${shape.name}: RSS growth ${(after - before).toFixed(1)} MB < ${MAX_GROWTH_MB} MB`,
    );
  }
  t.comment(`Node ${process.version}\n  ${figures.join('\n  ')}`);
});
