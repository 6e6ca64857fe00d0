// Admission limits at their defaults: floods of bare TCP and of idle mTLS connections keep the proxy's RSS under the
// shipped 256Mi memory limit while an authorized caller keeps getting 200.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { makeLeaf } from '../helpers/pki.js';
import { runLoad } from '../soak/lib/load-client.mjs';
import {
  freePort,
  processStats,
  proxyArgs,
  startProxyProcess,
  startTokenUpstream,
  waitFor,
} from '../soak/lib/processes.mjs';
import { ALLOW_PROD, clientTls, formatKb, makeReliabilityPki } from './lib/fixture.js';
import { heldConnections } from './lib/proc-net.js';

// deploy/kubernetes/deployment.yaml: resources.limits.memory of the mtls-sidecar container.
const SHIPPED_LIMIT_KB = 256 * 1024;
const DEFAULT_MAX_CONNECTIONS = 512;
const DEFAULT_MAX_HANDSHAKES = 128;
const BARE_FLOOD = 3000;
const MTLS_FLOOD = 1500;

function softFdLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return line === undefined || line === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(line);
}

function shippedLimitIs256Mi(): boolean {
  const yaml = readFileSync(new URL('../../deploy/kubernetes/deployment.yaml', import.meta.url), 'utf8');
  const sidecar = yaml.slice(yaml.indexOf('- name: mtls-sidecar'));
  return /limits:\s*\n(?:\s+\w+:.*\n)*?\s+memory:\s*256Mi/.test(sidecar);
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Keeps the highest RSS seen while `during` runs (polling /proc every 50 ms). */
async function peakRssDuring<T>(pid: number, during: () => Promise<T>): Promise<{ value: T; peakKb: number }> {
  let peakKb = processStats(pid).rssKb;
  const timer = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, processStats(pid).rssKb);
    } catch {
      // the process is gone; the test's own assertions say so
    }
  }, 50);
  try {
    const value = await during();
    peakKb = Math.max(peakKb, processStats(pid).rssKb);
    return { value, peakKb };
  } finally {
    clearInterval(timer);
  }
}

/** A fresh authorized connection: the status of one GET as text, or the error code when the connection failed. */
function freshAuthorizedGet(port: number, tlsOpts: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/fresh/1', servername: 'localhost', agent: false, ...tlsOpts },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

// The proxy (a child) inherits this limit and must hold max-connections + handshakes + upstream sockets.
const FD_LIMIT = softFdLimit();
const FD_NEEDED = DEFAULT_MAX_CONNECTIONS + DEFAULT_MAX_HANDSHAKES + 1024;
const skip =
  FD_LIMIT < FD_NEEDED
    ? `needs a nofile limit of at least ${FD_NEEDED} (ulimit -n is ${FD_LIMIT}); .ci/run raises it`
    : false;

t.test(
  'at the default limits, connection floods stay under the shipped memory limit and an authorized caller keeps working',
  { skip },
  async (t) => {
    t.ok(
      shippedLimitIs256Mi(),
      'the shipped Deployment still limits the sidecar to 256Mi (this test measures against that figure)',
    );
    const pki = makeReliabilityPki('mtls-admission-');
    const intruder = makeLeaf(pki.dir, 'intruder', pki.ca, {
      subject: '/CN=intruder',
      san: ['URI:spiffe://example.org/ns/dev/sa/intruder'],
    });
    const upstream = await startTokenUpstream();
    const metricsPort = await freePort();
    // Default admission limits; handshake and idle timeouts lengthened so the floods are held for the whole test.
    const proxy = await startProxyProcess({
      args: proxyArgs({
        upstream: upstream.url,
        cert: pki.server.cert,
        key: pki.server.key,
        clientCa: pki.ca.cert,
        metricsListen: `127.0.0.1:${metricsPort}`,
        extra: [...ALLOW_PROD, '--handshake-timeout', '120s', '--idle-timeout', '10m', '--headers-timeout', '10m'],
      }),
    });
    const open: net.Socket[] = [];
    t.teardown(async () => {
      for (const s of open) s.destroy();
      await proxy.stop('SIGKILL', 2000);
      await upstream.kill();
      pki.cleanup();
    });
    const pid = proxy.pid;
    const port = proxy.port;
    const tlsOpts = clientTls(pki);
    const scrape = async (): Promise<string> => (await httpGet(metricsPort, '/metrics')).body;

    // Warm-up with the authorized traffic shape, so JIT and pool growth are inside the baseline.
    await runLoad({ port, ...tlsOpts, connections: 1, requests: 1000, firstId: 1_000_000 });
    t.ok(
      await waitFor(() => heldConnections(port) === 0, 30_000),
      'the warm-up connection is closed on the proxy side before the baseline',
    );
    const baseline = processStats(pid);

    const stop = new AbortController();
    const authorized = runLoad({ port, ...tlsOpts, connections: 1, signal: stop.signal, firstId: 0, reconnect: false });

    // 1. Bare TCP: connect, send nothing. Only --max-handshakes of them may be held; the rest are closed at accept.
    const bare = await peakRssDuring(pid, async () => {
      for (let i = 0; i < BARE_FLOOD; i += 100) {
        // In batches of 100, each connected (or closed at accept) before the next: the flood goes as fast as the proxy
        // accepts.
        await Promise.all(
          Array.from(
            { length: Math.min(100, BARE_FLOOD - i) },
            () =>
              new Promise<void>((resolve) => {
                const s = net.connect({ host: '127.0.0.1', port });
                s.on('error', () => undefined);
                s.once('connect', () => resolve());
                s.once('close', () => resolve());
                open.push(s);
              }),
          ),
        );
      }
      await waitFor(() => processStats(pid).fds - baseline.fds >= DEFAULT_MAX_HANDSHAKES - 1, 30_000);
      // Every connection the proxy refuses is closed at accept: wait until the client has seen all those closes.
      await waitFor(
        async () =>
          open.filter((s) => s.closed).length ===
          metric(await scrape(), 'mtls_sidecar_connections_refused_total{reason="max_handshakes"}'),
        10_000,
        100,
      );
      // The peak-RSS bound is a negative assertion: keep sampling for half a second while the flood is held.
      await new Promise((r) => setTimeout(r, 500));
      return processStats(pid);
    });
    const bareHeld = open.filter((s) => !s.closed).length;
    const afterBareMetrics = await scrape();
    const refusedHandshakes = metric(
      afterBareMetrics,
      'mtls_sidecar_connections_refused_total{reason="max_handshakes"}',
    );
    const readyDuringBare = await httpGet(metricsPort, '/readyz');
    for (const s of open.splice(0)) s.destroy();
    await waitFor(() => processStats(pid).fds <= baseline.fds + 2, 30_000, 100);
    const afterBare = processStats(pid);

    t.ok(
      bareHeld <= DEFAULT_MAX_HANDSHAKES,
      `bare flood: at most --max-handshakes (${DEFAULT_MAX_HANDSHAKES}) held open (${bareHeld} of ${BARE_FLOOD})`,
    );
    t.ok(bareHeld >= DEFAULT_MAX_HANDSHAKES - 2, `bare flood: the limit was reached (${bareHeld} held)`);
    t.ok(
      bare.value.fds - baseline.fds <= DEFAULT_MAX_HANDSHAKES + 2,
      `bare flood: proxy fds ${baseline.fds} → ${bare.value.fds}`,
    );
    t.equal(
      refusedHandshakes,
      BARE_FLOOD - bareHeld,
      'every connection the proxy closed is counted as refused by max_handshakes',
    );
    t.equal(readyDuringBare.status, 200, 'readiness is unaffected by the flood');
    t.ok(bare.peakKb < SHIPPED_LIMIT_KB, `bare flood: peak RSS ${formatKb(bare.peakKb)} under 256 MiB`);

    // 2. Idle mTLS from one verified but low-privileged certificate: only --max-connections may be held.
    const intruderTls = { ca: pki.caPem, cert: intruder.certPem, key: intruder.keyPem };
    let handshakes = 0;
    const mtls = await peakRssDuring(pid, async () => {
      for (let i = 0; i < MTLS_FLOOD; i += 50) {
        await Promise.all(
          Array.from(
            { length: Math.min(50, MTLS_FLOOD - i) },
            () =>
              new Promise<void>((resolve) => {
                const s = tls.connect({
                  host: '127.0.0.1',
                  port,
                  servername: 'localhost',
                  ALPNProtocols: ['h2'],
                  ...intruderTls,
                });
                open.push(s);
                s.on('error', () => undefined);
                s.once('secureConnect', () => {
                  handshakes += 1;
                  resolve();
                });
                s.once('close', () => resolve());
              }),
          ),
        );
      }
      // Every connection the proxy refuses is closed at accept: wait until the client has seen all those closes.
      await waitFor(
        async () =>
          open.filter((s) => s.closed).length ===
          metric(await scrape(), 'mtls_sidecar_connections_refused_total{reason="max_connections"}'),
        10_000,
        100,
      );
      // The peak-RSS and held-connection bounds are negative assertions: keep sampling for a second while the flood is
      // held.
      await new Promise((r) => setTimeout(r, 1000));
      return processStats(pid);
    });
    const mtlsHeld = open.filter((s) => !s.closed).length;
    const afterMtlsMetrics = await scrape();
    const refusedConnections = metric(
      afterMtlsMetrics,
      'mtls_sidecar_connections_refused_total{reason="max_connections"}',
    );
    const readyDuringMtls = await httpGet(metricsPort, '/readyz');
    const newcomerDuringFlood = await freshAuthorizedGet(port, tlsOpts);

    stop.abort();
    const { report } = await authorized;
    for (const s of open.splice(0)) s.destroy();
    const fdsBack = await waitFor(() => processStats(pid).fds <= baseline.fds + 2, 30_000, 100);
    const afterMtls = processStats(pid);
    const newcomerAfter = await freshAuthorizedGet(port, tlsOpts);

    t.ok(
      mtlsHeld <= DEFAULT_MAX_CONNECTIONS - 1,
      `idle mTLS flood: at most --max-connections held, the authorized connection included (${mtlsHeld} of ${MTLS_FLOOD})`,
    );
    t.ok(refusedConnections > 0, `idle mTLS flood: ${refusedConnections} connections refused by max_connections`);
    t.ok(
      mtls.value.fds - baseline.fds <= DEFAULT_MAX_CONNECTIONS + 2,
      `idle mTLS flood: proxy fds ${baseline.fds} → ${mtls.value.fds}`,
    );
    t.equal(readyDuringMtls.status, 200, 'readiness is unaffected while the connection limit is reached');
    t.ok(mtls.peakKb < SHIPPED_LIMIT_KB, `idle mTLS flood: peak RSS ${formatKb(mtls.peakKb)} under 256 MiB`);
    t.not(
      newcomerDuringFlood,
      '200',
      `a new connection while the limit is held is refused at accept (${newcomerDuringFlood}), as documented`,
    );
    t.equal(newcomerAfter, '200', `once the flood is gone, a new authorized connection gets in (${newcomerAfter})`);
    t.ok(fdsBack, `fds back to baseline (${baseline.fds} → ${afterMtls.fds})`);

    t.ok(report.sent > 0, `the authorized keep-alive caller kept sending during both floods (${report.sent} requests)`);
    t.same(report.byStatus, { 200: report.sent }, 'every authorized request got 200');
    t.equal(report.connects, 1, 'the authorized connection was never dropped');
    t.ok(proxy.alive(), 'proxy survived');

    t.comment(
      `admission limits (defaults ${DEFAULT_MAX_CONNECTIONS} connections / ${DEFAULT_MAX_HANDSHAKES} handshakes, nofile ${FD_LIMIT}): ` +
        `baseline RSS ${formatKb(baseline.rssKb)}, fds ${baseline.fds}; ` +
        `${BARE_FLOOD} bare TCP: ${bareHeld} held, ${refusedHandshakes} refused, peak ${formatKb(bare.peakKb)}, after close ${formatKb(afterBare.rssKb)}; ` +
        `${MTLS_FLOOD} idle mTLS (h2, one low certificate): ${handshakes} handshakes, ${mtlsHeld} held, ${refusedConnections} refused, ` +
        `peak ${formatKb(mtls.peakKb)}, after close ${formatKb(afterMtls.rssKb)}; authorized ${report.sent} requests all 200`,
    );
  },
);
