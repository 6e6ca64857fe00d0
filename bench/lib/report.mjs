// Medians, ratios to nginx and the Markdown tables the benchmark prints.

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const METRICS = ['rps', 'p50Ms', 'p99Ms', 'cpuUsPerRequest', 'generatorCpuPercent', 'upstreamCpuUsPerRequest', 'cpuUsPerNewHandshake', 'cpuUsPerNewChainedHandshake', 'cpuUsPerResumed12', 'cpuUsPerResumed13'];

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

const fmt = (x, digits = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');
const fmtRatio = (x) => (typeof x === 'number' ? `${x.toFixed(2)}×` : x && typeof x.median === 'number' ? `${x.median.toFixed(2)}×` : '–');
const fmtRange = (x) => (x && typeof x.min === 'number' ? `${x.min.toFixed(2)}–${x.max.toFixed(2)}×` : '–');

/** The main table: one row per contender, medians over the interleaved rounds; ratios are medians of per-round ratios. */
export function mainTable(results) {
  const lines = [
    '| contender | req/s | p50 ms | p99 ms | CPU µs/req | ×nginx | CPU µs/new hs | ×nginx | CPU µs/new hs, leaf + intermediate | ×nginx | CPU µs/resumed TLS1.2 | CPU µs/resumed TLS1.3 | peak RSS MB | generator CPU % |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const m = r.median;
    lines.push(`| ${r.name} | ${fmt(m.rps)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${fmt(m.cpuUsPerRequest, 1)} | ${fmtRatio(r.ratios.cpuPerRequest)} | ${fmt(m.cpuUsPerNewHandshake)} | ${fmtRatio(r.ratios.cpuPerNewHandshake)} | ${fmt(m.cpuUsPerNewChainedHandshake)} | ${fmtRatio(r.ratios.cpuPerNewChainedHandshake)} | ${fmt(m.cpuUsPerResumed12)} | ${fmt(m.cpuUsPerResumed13)} | ${fmt(r.peakRssMb, 1)} | ${fmt(m.generatorCpuPercent)} |`);
  }
  return lines.join('\n');
}

/** Per-round ratio ranges: how far one round's ratio moved from another's in this run. */
export function spreadTable(results) {
  const lines = [
    '| contender | CPU/req ×nginx, per round | CPU/new hs ×nginx, per round | CPU/req ×reference (median, range) | CPU/new hs ×reference (median, range) |',
    '|---|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    if (r.kind === 'nginx') continue;
    const toRef = r.kind === 'sidecar' || r.kind === 'sidecar-log' ? r.ratiosToReference : null;
    lines.push(`| ${r.name} | ${fmtRange(r.ratios.cpuPerRequest)} | ${fmtRange(r.ratios.cpuPerNewHandshake)} | ${toRef ? `${fmtRatio(toRef.cpuPerRequest)} (${fmtRange(toRef.cpuPerRequest)})` : '–'} | ${toRef ? `${fmtRatio(toRef.cpuPerNewHandshake)} (${fmtRange(toRef.cpuPerNewHandshake)})` : '–'} |`);
  }
  return lines.join('\n');
}

export function memoryTable(results) {
  const lines = [
    '| contender | idle conns open | RSS before MB | RSS with idle conns MB | KB/conn | upload | upload MB/s | upload RSS growth MB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const i = r.idle;
    const u = r.upload;
    if (!i && !u) continue;
    const up = u ? (u.ok ? `${fmt(u.bytes / 1048576)} MiB ok` : `failed (${u.status}${u.error ? `: ${String(u.error).slice(0, 60)}` : ''})`) : '–';
    lines.push(`| ${r.name} | ${i ? `${i.stillOpen}/${i.requested}` : '–'} | ${fmt(i?.rssBeforeMb, 1)} | ${fmt(i?.rssOpenMb, 1)} | ${fmt(i?.kbPerConnection, 1)} | ${up} | ${fmt(u?.mbPerSecond)} | ${fmt(u?.rssGrowthMb, 1)} |`);
  }
  return lines.join('\n');
}
