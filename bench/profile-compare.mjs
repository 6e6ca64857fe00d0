// Compares CPU profiles written by bench/profile.mjs (e.g. the sidecar and the plain Node floor under the same load):
// self time grouped by what it is spent on, as µs per request (each profile's share of busy samples × its measured
// CPU per request, so a machine that descheduled one run more than the other does not skew it), and the difference.
// Usage: node bench/profile-compare.mjs A.cpuprofile B.cpuprofile [C.cpuprofile ...]   (the first is the base)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const NATIVE_WRITES = new Set(['writev', 'writeLatin1String', 'writeUtf8String', 'writeBuffer', 'writeAsciiString']);
const FASTIFY =
  /^(fastify|find-my-way|avvio|light-my-request|fast-json-stringify|@fastify\/[^/]+|abstract-logging|fast-querystring|safe-regex2|toad-cache|process-warning|rfdc|fast-content-type-parse|ret|secure-json-parse)$/;

function packageOf(url) {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm === -1) return null;
  const rest = url.slice(nm + 14).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

/** The category one sample's function belongs to. */
export function categoryOf({ functionName, url }) {
  if (functionName === '(idle)') return null;
  if (functionName === '(garbage collector)') return 'V8 garbage collection';
  if (!url)
    return NATIVE_WRITES.has(functionName)
      ? 'native socket writes (TLS encryption + write syscalls)'
      : 'other native and V8 (program, builtins, reads, regexps)';
  if (url.startsWith('wasm://')) return 'undici (JS + llhttp wasm)';
  if (url.startsWith('node:')) {
    if (/^node:(_http_|http|https|internal\/http)/.test(url) || url.startsWith('node:internal/http2'))
      return 'Node HTTP and HTTP/2 (JS)';
    if (/^node:(net|tls|_tls|internal\/stream_base|internal\/tls)/.test(url)) return 'Node net/TLS sockets (JS)';
    if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'Node streams (JS)';
    return 'Node events, timers, ticks, other (JS)';
  }
  const pkg = packageOf(url);
  if (pkg === 'undici') return 'undici (JS + llhttp wasm)';
  if (pkg && FASTIFY.test(pkg)) return 'fastify (routing, hooks, reply)';
  if (pkg === 'prom-client') return 'prom-client';
  if (pkg === 'pino' || pkg === 'sonic-boom' || pkg === 'thread-stream' || /dist\/ops\/access-log/.test(url))
    return 'access line and logger';
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return `sidecar ${url.slice(dist + 6).replace(/\.js$/, '')}`;
  if (pkg) return `other package ${pkg}`;
  return `script ${basename(url)}`;
}

/** µs per unit by category, from samples after the window's start and before its end. */
export function categorize(profile, meta) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map();
  let busy = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += (profile.timeDeltas[i] ?? 0) / 1000;
    if (at < meta.window.fromMs || at > meta.window.toMs) return;
    const cat = categoryOf(byId.get(id).callFrame);
    if (cat === null) return;
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += dt;
    ms.set(cat, (ms.get(cat) ?? 0) + dt);
  });
  const out = new Map();
  for (const [cat, v] of ms) out.set(cat, (v / busy) * meta.cpuUsPerUnit);
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const files = process.argv.slice(2);
  if (files.length < 2) {
    process.stderr.write('usage: node bench/profile-compare.mjs BASE.cpuprofile OTHER.cpuprofile [...]\n');
    process.exit(2);
  }
  const runs = files.map((f) => {
    const meta = JSON.parse(readFileSync(`${f}.meta.json`, 'utf8'));
    return { meta, cats: categorize(JSON.parse(readFileSync(f, 'utf8')), meta) };
  });
  const cats = [...new Set(runs.flatMap((r) => [...r.cats.keys()]))];
  const last = runs.at(-1);
  cats.sort(
    (a, b) =>
      (last.cats.get(b) ?? 0) - (runs[0].cats.get(b) ?? 0) - ((last.cats.get(a) ?? 0) - (runs[0].cats.get(a) ?? 0)),
  );
  const f = (x) => (x === undefined ? '–' : x.toFixed(1));
  const head = runs.map(
    (r) => `${r.meta.contender} µs/${r.meta.mode === 'new' || r.meta.mode === 'resumed' ? 'hs' : 'req'}`,
  );
  console.log(`| category | ${head.join(' | ')} | last − first |`);
  console.log(`|---|${runs.map(() => '--:|').join('')}--:|`);
  for (const c of cats)
    console.log(
      `| ${c} | ${runs.map((r) => f(r.cats.get(c))).join(' | ')} | ${f((last.cats.get(c) ?? 0) - (runs[0].cats.get(c) ?? 0))} |`,
    );
  console.log(
    `| **total (measured CPU, profiler on)** | ${runs.map((r) => f(r.meta.cpuUsPerUnit)).join(' | ')} | ${f(last.meta.cpuUsPerUnit - runs[0].meta.cpuUsPerUnit)} |`,
  );
}
