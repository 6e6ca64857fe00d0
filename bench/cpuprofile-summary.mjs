// Summarises a V8 .cpuprofile: self and inclusive time by function+file, and self time by module (package, node
// internals, our dist/). Usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--from-ms A] [--to-ms B]
// (window from the profile's start)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function shortUrl(url) {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function moduleOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node core (JS)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1)
    return `mtls-sidecar ${url
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return url;
}

/**
 * Self and inclusive milliseconds per function key and per module, from samples and timeDeltas. Only
 * samples between fromMs and toMs after the profile's start count (so start-up and shutdown can be left out).
 */
export function summarizeProfile(profile, { fromMs = 0, toMs = Infinity } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  const inclusive = new Map();
  const modules = new Map();
  let total = 0;
  const add = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v);
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    at += dt;
    const node = byId.get(id);
    if (!node || at < fromMs || at > toMs) return;
    total += dt;
    add(self, keyOf(node), dt);
    add(modules, moduleOf(node.callFrame.url, node.callFrame.functionName), dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur));
      if (!seen.has(k)) {
        seen.add(k);
        add(inclusive, k, dt);
      }
    }
  });
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, self: sorted(self), inclusive: sorted(inclusive), modules: sorted(modules) };
}

export function formatSummary(summary, top = 30, ourPrefix = 'dist/') {
  const pct = (v) => `${((v / summary.totalMs) * 100).toFixed(1)}%`;
  const row = ([k, v]) => `| ${pct(v)} | ${v.toFixed(0)} | \`${k}\` |`;
  const ours = summary.inclusive.filter(([k]) => k.includes(ourPrefix) && !k.startsWith('(')).slice(0, 15);
  return [
    `${summary.totalMs.toFixed(0)} ms of samples in the window ("(idle)" is time the event loop waited).`,
    '',
    '**Self time by module**',
    '',
    '| self | ms | module |',
    '|--:|--:|---|',
    ...summary.modules.slice(0, 15).map(row),
    '',
    `**Top ${top} functions by self time**`,
    '',
    '| self | ms | function file:line |',
    '|--:|--:|---|',
    ...summary.self.slice(0, top).map(row),
    '',
    `**Top ${top} functions by inclusive time** (a function's own time plus everything it called)`,
    '',
    '| incl. | ms | function file:line |',
    '|--:|--:|---|',
    ...summary.inclusive
      .filter(([k]) => !k.startsWith('(root)'))
      .slice(0, top)
      .map(row),
    '',
    '**Sidecar functions by inclusive time**',
    '',
    '| incl. | ms | function file:line |',
    '|--:|--:|---|',
    ...ours.map(row),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const topIdx = process.argv.indexOf('--top');
  const top = topIdx === -1 ? 30 : Number(process.argv[topIdx + 1]);
  const arg = (name, dflt) =>
    process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt;
  const window = { fromMs: arg('--from-ms', 0), toMs: arg('--to-ms', Infinity) };
  process.stdout.write(`${formatSummary(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), window), top)}\n`);
}
