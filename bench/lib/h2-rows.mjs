// HTTP/2 and gRPC unary rows: h2load (with the client-certificate shim) against the sidecar, the plain Node HTTP/2
// floor and nginx, interleaved rounds, CPU per request of each contender and per-round ratios to the floor and nginx.
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { startNodeH2Floor, startSidecar } from './contenders.mjs';
import { runH2load } from './load.mjs';
import { processTree, stopProcess, treeCpuSeconds } from './procs.mjs';
import { median, pairedRatio } from './report.mjs';

export const GRPC_PATH = '/shop.v1.Orders/GetOrder';
export const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers'];

/** shop.v1.OrderRequest { id: "bench" } as one uncompressed gRPC message frame. */
export function grpcRequestFile(dir) {
  const file = join(dir, 'grpc-request.bin');
  const message = Buffer.from([0x0a, 0x05, ...Buffer.from('bench')]);
  writeFileSync(file, Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));
  return file;
}

/** One call over HTTP/2 with the client certificate: what the upstream saw and the grpc-status that came back. */
function checkCall(port, certs, file, isGrpc) {
  return new Promise((resolve) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
      servername: 'localhost',
    });
    const done = (v) => (session.close(), resolve(v));
    session.on('error', (e) => done({ error: e.message }));
    const req = session.request(
      isGrpc
        ? { ':method': 'POST', ':path': GRPC_PATH, 'content-type': 'application/grpc', te: 'trailers' }
        : { ':path': '/whoami' },
    );
    let status = 0;
    let seen = '';
    let body = '';
    req.on('response', (h) => ((status = h[':status']), (seen = h['x-seen-subject'] ?? '')));
    req.on('data', (d) => (body += d));
    let grpcStatus = null;
    req.on('trailers', (t) => (grpcStatus = t['grpc-status'] ?? null));
    req.on('end', () => done({ status, subjectSeen: isGrpc ? seen : body.trim(), grpcStatus }));
    req.on('error', (e) => done({ error: e.message }));
    req.setTimeout(5000, () => req.close());
    req.end(isGrpc ? readFileSync(file) : undefined);
  });
}

async function measureOne(target, load) {
  const c0 = treeCpuSeconds(target.pid);
  const w = await load(target.port);
  const cpu = treeCpuSeconds(target.pid) - c0;
  return {
    requests: w.requests,
    rps: w.rps,
    meanMs: w.meanMs,
    errors: w.non2xx + w.socketErrors,
    generatorCpuPercent: (w.generatorCpuSeconds / w.seconds) * 100,
    cpuUsPerRequest: w.requests > 0 ? (cpu * 1e6) / w.requests : null,
  };
}

/**
 * `sidecar` and `nginx` are the running contenders (nginx started with the gRPC upstream's port; either may be
 * missing). Starts the two Node floors and a second sidecar whose upstream is the gRPC server, runs `rounds`
 * interleaved rounds of `seconds` per row and contender, stops what it started. Never throws: errors are reported.
 */
export async function measureH2Rows({
  work,
  certs,
  shim,
  upstream,
  grpcUpstream,
  sidecar,
  nginx,
  cpu,
  loadCpu,
  rounds,
  seconds,
  clients,
  streams,
  say,
}) {
  const started = [];
  try {
    const floorHttp = await startNodeH2Floor(certs, upstream.port, cpu, 'http');
    const floorGrpc = await startNodeH2Floor(certs, grpcUpstream.port, cpu, 'grpc');
    const sidecarGrpc = await startSidecar(certs, grpcUpstream.port, cpu);
    started.push(floorHttp.child, floorGrpc.child, sidecarGrpc.child);
    const dataFile = grpcRequestFile(work);
    const base = { seconds, clients, streams, shim, certs, cpu: loadCpu };
    const http = (port) => runH2load({ ...base, port });
    const grpc = (port) => runH2load({ ...base, port, path: GRPC_PATH, dataFile, headers: GRPC_HEADERS });
    const proc = (name, { port, child }) => ({ name, port, pid: child.pid });
    const rows = [
      {
        row: 'HTTP/2 GET',
        load: http,
        targets: [
          proc('plain Node http2 floor', floorHttp),
          ...(sidecar ? [proc('mtls-sidecar', sidecar)] : []),
          ...(nginx ? [proc('nginx', nginx)] : []),
        ],
      },
      {
        row: 'gRPC unary',
        load: grpc,
        targets: [
          proc('plain Node http2 floor', floorGrpc),
          proc('mtls-sidecar', sidecarGrpc),
          ...(nginx ? [proc('nginx', nginx)] : []),
        ],
      },
    ];
    for (const r of rows) {
      for (const t of r.targets) {
        t.check = await checkCall(t.port, certs, dataFile, r.row.startsWith('gRPC'));
        say(`${r.row} ${t.name}: ${JSON.stringify(t.check)}`);
        await r.load(t.port).then(
          () => undefined,
          () => undefined,
        ); // warm-up
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const r of rows) {
        for (const t of round % 2 === 0 ? r.targets : [...r.targets].reverse()) {
          t.rounds ??= [];
          const m = await measureOne(t, r.load).catch((err) => ({ error: String(err.message ?? err) }));
          if (!m.error && !(m.requests > 0))
            m.error = `no request completed${processTree(t.pid).length === 0 ? ' (the process has exited)' : ''}`;
          t.rounds.push({ round, ...m });
          say(
            `${r.row} round ${round + 1}/${rounds} ${t.name}: ${m.error ?? `${m.rps.toFixed(0)} req/s, ${m.cpuUsPerRequest?.toFixed(1)} µs CPU/req${m.errors ? `, ERRORS ${m.errors}` : ''}`}`,
          );
        }
      }
    }
    for (const r of rows) {
      const [floor] = r.targets;
      const ng = r.targets.find((t) => t.name === 'nginx');
      for (const t of r.targets) {
        t.median = {
          cpuUsPerRequest: median(t.rounds.map((x) => x.cpuUsPerRequest)),
          rps: median(t.rounds.map((x) => x.rps)),
          meanMs: median(t.rounds.map((x) => x.meanMs)),
        };
        t.errors = t.rounds.reduce((a, x) => a + (Number.isFinite(x.errors) ? x.errors : 0), 0);
        t.failedRounds = t.rounds.filter((x) => x.error).length;
        t.toFloor = pairedRatio(t.rounds, floor.rounds, 'cpuUsPerRequest');
        t.toNginx = ng ? pairedRatio(t.rounds, ng.rounds, 'cpuUsPerRequest') : null;
      }
    }
    return { clients, streams, seconds, rounds, rows: rows.map(({ load, ...r }) => r) };
  } catch (err) {
    return { error: String(err.stack ?? err) };
  } finally {
    for (const child of started) await stopProcess(child);
  }
}

export function h2Table(result) {
  if (result.error) return `HTTP/2 and gRPC rows failed: ${result.error.slice(0, 300)}`;
  const f = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');
  const r = (x) => (x ? `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})` : '–');
  const lines = [
    `HTTP/2 (h2load + client-certificate shim, ${result.clients} connections × ${result.streams} streams in flight, medians of ${result.rounds} interleaved rounds of ${result.seconds}s; ratios are medians of per-round ratios with their range):`,
    '',
    '| row | contender | req/s | mean ms | CPU µs/req | × Node http2 floor | × nginx | errors |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of result.rows) {
    for (const t of row.targets) {
      lines.push(
        `| ${row.row} | ${t.name} | ${f(t.median.rps, 0)} | ${f(t.median.meanMs, 2)} | ${f(t.median.cpuUsPerRequest)} | ${r(t.toFloor)} | ${r(t.toNginx)} | ${t.errors}${t.failedRounds ? ` (${t.failedRounds} round(s) failed: ${t.rounds.find((x) => x.error).error})` : ''} |`,
      );
    }
  }
  return lines.join('\n');
}
