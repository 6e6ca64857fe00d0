// gRPC unary benchmark: @grpc/grpc-js calls through the sidecar (mTLS, h2c upstream) against the same calls made
// directly, with the sidecar's CPU per call.
//
// Usage: npm run build && node bench/grpc-unary.mjs [--seconds 8] [--concurrency 32] [--rounds 3] [--json]
// GRPC_BENCH_SIDECAR=/path/to/main.js runs another build of the sidecar. The sidecar is pinned to CPU 0, the
// upstream and this load generator to CPU 1 (the two cores of the reference machine), so the sidecar's CPU is its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { makeCertificates } from './lib/certs.mjs';
import {
  freePort,
  killAllSync,
  pinSelf,
  startProcess,
  stopProcess,
  treeCpuSeconds,
  waitForPort,
} from './lib/procs.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(HERE, '..');
const PROTO = join(REPO, 'test', 'grpc', 'fixtures', 'shop.proto');

function loadShop() {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  return grpc.loadPackageDefinition(def).shop.v1;
}

/** Child mode: the upstream gRPC server (h2c) answering GetOrder with a small message. */
async function runUpstream(port) {
  const shop = loadShop();
  const server = new grpc.Server();
  server.addService(shop.Orders.service, {
    GetOrder: (call, cb) => cb(null, { id: call.request.id, note: 'ok' }),
    WatchOrders: (call) => call.end(),
    UploadOrders: (_call, cb) => cb(null, { count: 0, bytes: 0 }),
    Chat: (call) => call.end(),
  });
  await new Promise((res, rej) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())),
  );
}

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

/** Keeps `concurrency` unary calls in flight for `seconds`; returns calls, errors and latency percentiles. */
async function drive(client, seconds, concurrency) {
  const latencies = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      await new Promise((res) =>
        client.GetOrder({ id: 'bench' }, (err) => {
          if (err) errors += 1;
          else latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          res();
        }),
      );
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { calls: latencies.length, errors, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (process.argv[2] === 'upstream') return runUpstream(Number(process.argv[3]));
  const seconds = option('seconds', 8);
  const concurrency = option('concurrency', 32);
  const rounds = option('rounds', 3);
  const sidecarMain = process.env.GRPC_BENCH_SIDECAR ?? join(REPO, 'dist', 'main.js');
  pinSelf(1);
  const dir = mkdtempSync(join(tmpdir(), 'grpc-bench-'));
  const cleanup = () => {
    killAllSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

  const certs = await makeCertificates(dir);
  const upstreamPort = await freePort();
  const upstream = startProcess(process.execPath, [fileURLToPath(import.meta.url), 'upstream', String(upstreamPort)], {
    cpu: 1,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(upstreamPort, 15_000, upstream);
  const port = await freePort();
  const sidecar = startProcess(
    process.execPath,
    [
      sidecarMain,
      'run',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${upstreamPort}`,
      '--cert',
      certs.serverCert,
      '--key',
      certs.serverKey,
      '--client-ca',
      certs.ca,
      '--allow-uri',
      'spiffe://bench.example/ns/prod/*',
      '--metrics-listen',
      'off',
      '--allow-insecure-posture',
      '--log-level',
      'warn',
    ],
    { cpu: 0, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, 20_000, sidecar);

  const shop = loadShop();
  const tls = grpc.credentials.createSsl(
    readFileSync(certs.ca),
    readFileSync(certs.clientKey),
    readFileSync(certs.clientCert),
  );
  const proxied = new shop.Orders(`127.0.0.1:${port}`, tls, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.default_authority': 'localhost',
  });
  const direct = new shop.Orders(`127.0.0.1:${upstreamPort}`, grpc.credentials.createInsecure());
  await drive(proxied, 1, concurrency); // warm-up: JIT, TLS session, upstream session
  await drive(direct, 1, concurrency);

  const results = { proxied: [], direct: [] };
  for (let r = 0; r < rounds; r++) {
    const cpu0 = treeCpuSeconds(sidecar.pid);
    const p = await drive(proxied, seconds, concurrency);
    const cpu = treeCpuSeconds(sidecar.pid) - cpu0;
    results.proxied.push({
      ...p,
      sidecarCpuUsPerCall: (cpu / p.calls) * 1e6,
      sidecarCpuPercent: (cpu / seconds) * 100,
    });
    results.direct.push(await drive(direct, seconds, concurrency));
  }
  proxied.close();
  direct.close();
  await stopProcess(sidecar);
  await stopProcess(upstream);

  const summary = (rows, key) => median(rows.map((row) => row[key]));
  const out = {
    seconds,
    concurrency,
    rounds,
    proxied: {
      rps: summary(results.proxied, 'rps'),
      p50Ms: summary(results.proxied, 'p50'),
      p99Ms: summary(results.proxied, 'p99'),
      errors: results.proxied.reduce((n, r) => n + r.errors, 0),
      sidecarCpuUsPerCall: summary(results.proxied, 'sidecarCpuUsPerCall'),
      sidecarCpuPercent: summary(results.proxied, 'sidecarCpuPercent'),
    },
    direct: {
      rps: summary(results.direct, 'rps'),
      p50Ms: summary(results.direct, 'p50'),
      p99Ms: summary(results.direct, 'p99'),
      errors: results.direct.reduce((n, r) => n + r.errors, 0),
    },
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log(
    `gRPC unary, ${concurrency} calls in flight, ${seconds}s x ${rounds} rounds (medians); direct = grpc-js to the h2c upstream without TLS`,
  );
  console.log('| path | calls/s | p50 ms | p99 ms | errors | sidecar CPU µs/call | sidecar CPU % |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| through sidecar (mTLS → h2c) | ${f(out.proxied.rps, 0)} | ${f(out.proxied.p50Ms, 2)} | ${f(out.proxied.p99Ms, 2)} | ${out.proxied.errors} | ${f(out.proxied.sidecarCpuUsPerCall, 0)} | ${f(out.proxied.sidecarCpuPercent, 0)} |`,
  );
  console.log(
    `| direct (h2c) | ${f(out.direct.rps, 0)} | ${f(out.direct.p50Ms, 2)} | ${f(out.direct.p99Ms, 2)} | ${out.direct.errors} | - | - |`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
