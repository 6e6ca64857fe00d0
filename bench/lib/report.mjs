// Medians, ratios to nginx and the Markdown tables the benchmark prints.

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const METRICS = [
  'rps',
  'p50Ms',
  'p99Ms',
  'cpuUsPerRequest',
  'generatorCpuPercent',
  'upstreamCpuUsPerRequest',
  'cpuUsPerNewHandshake',
  'cpuUsPerNewChainedHandshake',
  'cpuUsPerResumed12',
  'cpuUsPerResumed13',
];

/** Median of every metric over the rounds of one contender. */
export function summarize(rounds) {
  const out = {};
  for (const m of METRICS) out[m] = median(rounds.map((r) => r[m]));
  return out;
}

export function ratio(a, b) {
  // A failed round (no requests served) gives Infinity or NaN: no ratio rather than a 0× or ∞× one.
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null;
}

/**
 * A contender's figure divided by the baseline's from the same round, for every round: the two were measured
 * within a minute of each other, so a machine that slows down or speeds up between rounds moves both.
 */
export function perRoundRatios(rounds, baseRounds, metric) {
  return rounds
    .map((row) => ratio(row[metric], baseRounds.find((b) => b.round === row.round)?.[metric]))
    .filter((x) => x !== null);
}

/** Median and range of the per-round ratios. */
export function pairedRatio(rounds, baseRounds, metric) {
  const all = perRoundRatios(rounds, baseRounds, metric);
  if (all.length === 0) return null;
  return { median: median(all), min: Math.min(...all), max: Math.max(...all), rounds: all };
}

/** Per-round ratios of every metric of `c` against `base` (null when there is no base or it is c itself). */
export function ratiosAgainst(c, base) {
  if (!base || base === c) return null;
  const out = {};
  for (const m of METRICS) out[m] = pairedRatio(c.rounds, base.rounds, m);
  return out;
}

const fmt = (x, digits = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');
const fmtRatio = (x) => (x && typeof x.median === 'number' ? `${x.median.toFixed(2)}×` : '–');
const fmtRange = (x) => (x && typeof x.min === 'number' ? `${x.min.toFixed(2)}–${x.max.toFixed(2)}` : '–');
const withRange = (x) => (x && typeof x.median === 'number' ? `${fmtRatio(x)} (${fmtRange(x)})` : '–');
const self = (r, key) => (r.kind === key ? '1.00' : null);

/**
 * Requests: one row per contender, medians over the interleaved rounds; ratios are medians of per-round ratios
 * (range).
 */
export function mainTable(results) {
  const lines = [
    '| contender | req/s | p50 ms | p99 ms | CPU µs/req | × plain Node floor (range) | × nginx (range) | × Caddy (range) | upstream CPU µs/req | generator CPU % |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const m = r.median;
    const col = (key) => self(r, key) ?? withRange(r.ratios[key]?.cpuUsPerRequest);
    lines.push(
      `| ${r.name} | ${fmt(m.rps)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${fmt(m.cpuUsPerRequest, 1)} | ${col('node')} | ${col('nginx')} | ${col('caddy')} | ${fmt(m.upstreamCpuUsPerRequest, 1)} | ${fmt(m.generatorCpuPercent)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Handshakes: CPU per new (leaf only, leaf + intermediate) and resumed (TLS 1.2, 1.3) handshake, each against nginx.
 */
export function handshakeTable(results) {
  const lines = [
    '| contender | µs/new hs | × nginx (range) | µs/new hs, leaf + intermediate | × nginx (range) | µs/resumed TLS 1.2 | × nginx (range) | µs/resumed TLS 1.3 | × nginx (range) | new hs × plain Node floor |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const m = r.median;
    if (m.cpuUsPerNewHandshake === null) continue;
    const n = (metric) => self(r, 'nginx') ?? withRange(r.ratios.nginx?.[metric]);
    lines.push(
      `| ${r.name} | ${fmt(m.cpuUsPerNewHandshake)} | ${n('cpuUsPerNewHandshake')} | ${fmt(m.cpuUsPerNewChainedHandshake)} | ${n('cpuUsPerNewChainedHandshake')} | ${fmt(m.cpuUsPerResumed12)} | ${n('cpuUsPerResumed12')} | ${fmt(m.cpuUsPerResumed13)} | ${n('cpuUsPerResumed13')} | ${self(r, 'node') ?? withRange(r.ratios.node?.cpuUsPerNewHandshake)} |`,
    );
  }
  return lines.join('\n');
}

export function memoryTable(results) {
  const lines = [
    '| contender | peak RSS MB, request + handshake rounds (≤ 32 conns) | idle mTLS conns open | RSS before MB | RSS with idle conns MB | KB/idle conn | RSS after they close MB | upload | upload MB/s | upload RSS growth MB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const i = r.idle;
    const u = r.upload;
    const up = u
      ? u.ok
        ? `${fmt(u.bytes / 1048576)} MiB ok`
        : `failed (${u.status}${u.error ? `: ${String(u.error).slice(0, 60)}` : ''})`
      : '–';
    lines.push(
      `| ${r.name} | ${fmt(r.peakRssMb, 1)} | ${i ? `${i.stillOpen}/${i.requested}` : '–'} | ${fmt(i?.rssBeforeMb, 1)} | ${fmt(i?.rssOpenMb, 1)} | ${fmt(i?.kbPerConnection, 1)} | ${fmt(i?.rssAfterCloseMb, 1)} | ${up} | ${fmt(u?.mbPerSecond)} | ${fmt(u?.rssGrowthMb, 1)} |`,
    );
  }
  return lines.join('\n');
}
