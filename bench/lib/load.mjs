// Load generators: wrk (with the client-certificate shim) or ab -E for keep-alive requests, openssl s_time and a node
// client for handshakes.
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './procs.mjs';

const SHIM_SOURCE = join(import.meta.dirname, '..', 'client-cert-shim.c');

/**
 * Compiles the client-certificate LD_PRELOAD shim into `dir`; returns its path, or throws with the compiler's words.
 */
export async function buildClientCertShim(dir) {
  const out = join(dir, 'client-cert-shim.so');
  const r = await runCommand('cc', ['-shared', '-fPIC', '-O2', '-o', out, SHIM_SOURCE, '-ldl']);
  if (r.status !== 0) throw new Error(`client-certificate shim build failed: ${r.stderr.trim().slice(0, 300)}`);
  return out;
}

const CLK_TCK = 100;

function toMs(value, unit) {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

/** The generator's own CPU: run it under sh, which waits for it, then read sh's cutime+cstime (fields 16, 17). */
function childCpuWrapped(command) {
  return `${command}; s=$?; echo; echo "GENSTAT $(cat /proc/$$/stat)"; exit $s`;
}

function genCpuSeconds(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('GENSTAT '));
  if (!line) return null;
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

export function parseWrk(out) {
  const num = (re) => Number(out.match(re)?.[1] ?? NaN);
  const lat = (p) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm'));
    return m ? toMs(m[1], m[2]) : null;
  };
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: num(/(\d+) requests in/),
    seconds: num(/requests in ([\d.]+)s/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: lat(50),
    p99Ms: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** Keep-alive GETs with wrk; the shim makes wrk present the client certificate. */
export async function runWrk({ port, seconds, connections, shim, certs, cpu, path = '/' }) {
  const cmd = `wrk -t1 -c${connections} -d${seconds}s --latency https://127.0.0.1:${port}${path}`;
  const r = await runCommand('sh', ['-c', childCpuWrapped(cmd)], {
    cpu,
    env: { LD_PRELOAD: shim, BENCH_CLIENT_CERT: certs.clientCert, BENCH_CLIENT_KEY: certs.clientKey },
    timeoutMs: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`wrk failed (${r.status}): ${r.stderr.trim().slice(0, 300)}`);
  return { ...parseWrk(r.stdout), generatorCpuSeconds: genCpuSeconds(r.stdout) };
}

export function parseAb(out) {
  const num = (re) => Number(out.match(re)?.[1] ?? NaN);
  const pct = (p) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : null;
  };
  return {
    requests: num(/Complete requests:\s+(\d+)/),
    seconds: num(/Time taken for tests:\s+([\d.]+)/),
    rps: num(/Requests per second:\s+([\d.]+)/),
    p50Ms: pct(50),
    p99Ms: pct(99),
    non2xx: num(/Non-2xx responses:\s+(\d+)/) || 0,
    socketErrors: num(/Failed requests:\s+(\d+)/) || 0,
  };
}

/** Fallback generator: ab -k -E (single-threaded; its CPU is reported so a saturated ab is visible). */
export async function runAb({ port, seconds, connections, certs, cpu, path = '/' }) {
  const cmd = `ab -q -k -c ${connections} -t ${seconds} -n 100000000 -E ${quote(certs.clientPem)} https://127.0.0.1:${port}${path}`;
  const r = await runCommand('sh', ['-c', childCpuWrapped(cmd)], { cpu, timeoutMs: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`ab failed (${r.status}): ${r.stderr.trim().slice(0, 300)}`);
  return { ...parseAb(r.stdout), generatorCpuSeconds: genCpuSeconds(r.stdout) };
}

export function parseH2load(out) {
  const num = (re) => Number(out.match(re)?.[1] ?? NaN);
  const finished = out.match(/finished in ([\d.]+)(us|ms|s),/);
  const m = out.match(/time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/);
  return {
    requests: num(/requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/),
    seconds: finished ? toMs(finished[1], finished[2]) / 1000 : NaN,
    rps: num(/finished in [\d.]+(?:us|ms|s), ([\d.]+) req\/s/),
    meanMs: m ? toMs(m[1], m[2]) : null,
    non2xx: ['3xx', '4xx', '5xx'].reduce((a, k) => a + (num(new RegExp(`(\\d+) ${k}`)) || 0), 0),
    socketErrors: num(/(\d+) failed, \d+ errored/) || 0,
  };
}

/**
 * HTTP/2 load with h2load (the client-certificate shim makes it present the certificate): `clients` connections with
 * `streams` requests in flight on each. With `dataFile` every request is a POST of that file (gRPC: a framed message,
 * with the gRPC headers in `headers`).
 */
export async function runH2load({
  port,
  seconds,
  clients,
  streams,
  shim,
  certs,
  cpu,
  path = '/',
  dataFile,
  headers = [],
}) {
  const args = [
    '-c',
    String(clients),
    '-m',
    String(streams),
    '-t',
    '1',
    '-D',
    String(seconds),
    ...headers.flatMap((h) => ['-H', h]),
    ...(dataFile ? ['-d', dataFile] : []),
    `https://127.0.0.1:${port}${path}`,
  ];
  const cmd = `h2load ${args.map(quote).join(' ')}`;
  const r = await runCommand('sh', ['-c', childCpuWrapped(cmd)], {
    cpu,
    env: { LD_PRELOAD: shim, BENCH_CLIENT_CERT: certs.clientCert, BENCH_CLIENT_KEY: certs.clientKey },
    timeoutMs: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`h2load failed (${r.status}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return { ...parseH2load(r.stdout), generatorCpuSeconds: genCpuSeconds(r.stdout), raw: r.stdout };
}

/**
 * `openssl s_time` handshakes (-new, or -reuse with extra args such as -tls1_2), `parallel` processes at
 * once so the count is large enough for tick-resolution CPU accounting. Returns total connections and
 * how many were reported resumed ('r').
 */
export async function runSTime({ port, seconds, mode, extra = [], certs, cpu, parallel = 4 }) {
  const args = [
    's_time',
    '-connect',
    `127.0.0.1:${port}`,
    `-${mode}`,
    '-time',
    String(seconds),
    '-cert',
    certs.clientCert,
    '-key',
    certs.clientKey,
    ...extra,
  ];
  const runs = await Promise.all(
    Array.from({ length: parallel }, () => runCommand('openssl', args, { cpu, timeoutMs: (seconds + 30) * 1000 })),
  );
  let connections = 0;
  let resumed = 0;
  for (const r of runs) {
    const m = [...r.stdout.matchAll(/(\d+) connections in \d+ real seconds/g)].at(-1);
    if (!m) throw new Error(`s_time gave no count: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    connections += Number(m[1]);
    // s_time prints one character per connection: 'r' when the session was resumed.
    for (const line of r.stdout.split('\n')) if (/^[r*]+$/.test(line)) resumed += (line.match(/r/g) ?? []).length;
  }
  return { handshakes: connections, resumed };
}

/**
 * TLS 1.3 resumption with a node client: `openssl s_time -reuse` closes before reading the server's
 * NewSessionTicket, so under TLS 1.3 it never resumes. This client waits for the ticket, then resumes
 * with the latest one. `parallel` loops for `seconds`.
 */
export async function runNodeResume({ port, seconds, certs, version = 'TLSv1.3', parallel = 16 }) {
  const opts = {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: readFileSync(certs.ca),
    cert: readFileSync(certs.clientCert),
    key: readFileSync(certs.clientKey),
    minVersion: version,
    maxVersion: version,
  };
  const deadline = Date.now() + seconds * 1000;
  let session;
  let handshakes = 0;
  let resumed = 0;
  let failures = 0;
  const once = () =>
    new Promise((resolve) => {
      const s = tls.connect({ ...opts, session });
      let timer = setTimeout(() => (s.destroy(), resolve(false)), 5000);
      const finish = () => {
        clearTimeout(timer);
        s.destroy();
        resolve(true);
      };
      s.once('secureConnect', () => {
        handshakes += 1;
        if (s.isSessionReused()) resumed += 1;
        // A server may send no new ticket on a resumed session: keep the old one after a short wait.
        clearTimeout(timer);
        timer = setTimeout(finish, session === undefined ? 1000 : 10);
      });
      s.on('session', (ticket) => {
        session = ticket;
        if (handshakes > 0) finish();
      });
      s.once('error', () => (clearTimeout(timer), resolve(false)));
    });
  const loop = async () => {
    while (Date.now() < deadline && failures < 50) if (!(await once())) failures += 1;
  };
  // One full handshake first, so the parallel loops all start from a ticket and measure resumption only.
  await once();
  await Promise.all(Array.from({ length: parallel }, loop));
  return { handshakes, resumed, failures };
}
