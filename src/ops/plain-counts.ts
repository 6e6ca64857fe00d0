// Per-request metric updates kept in plain numbers and handed to prom-client just before its registry is read.
// prom-client hashes and validates the labels on every inc/observe (0.3-0.6 µs each in a loop, three per request);
// it runs a metric's `collect` before every read (a scrape, the primary gathering worker metrics), which is where the
// counts are handed over, so what a read shows is exactly what prom-client's own calls would have made.
import type { Counter, Histogram, LabelValues } from 'prom-client';

interface Collecting {
  collect?: (this: unknown) => void | Promise<void>;
}

/** Runs `handOver` before every read of the metric, ahead of any collect it already has. */
function beforeEveryRead(metric: object, handOver: () => void): void {
  const m = metric as Collecting;
  const own = m.collect;
  m.collect =
    own === undefined
      ? handOver
      : function (this: unknown) {
          handOver();
          return own.call(this);
        };
}

interface PendingSeries<T extends string> {
  labels: LabelValues<T>;
  n: number;
}

/** One level per label name, keyed by the label's value; the last level holds the series. */
type SeriesTree<T extends string> = Map<unknown, SeriesTree<T> | PendingSeries<T>>;

/**
 * `counter.inc(labels)` counts in a tree of maps keyed by the label values (no key string is built per call). A label
 * set seen for the first time goes through prom-client at once with 0 (its validation, and the series is created
 * where prom-client would create it); any other form of call (no labels, an explicit value) goes straight to
 * prom-client. Two spellings of one series (`200` and `'200'`) are two entries here and one series once handed over.
 */
export function countInPlainNumbers<T extends string>(counter: Counter<T>, labelNames: readonly T[]): void {
  const direct = counter.inc.bind(counter) as (labels?: LabelValues<T> | number, value?: number) => void;
  const last = labelNames.length - 1;
  let tree: SeriesTree<T> = new Map();
  let all: Array<PendingSeries<T>> = [];
  const firstSeen = (labels: LabelValues<T>): PendingSeries<T> => {
    direct(labels, 0);
    const series = { labels: { ...labels }, n: 0 };
    all.push(series);
    return series;
  };
  const inc = (labels?: LabelValues<T> | number, value?: number): void => {
    if (typeof labels !== 'object' || labels === null || last < 0 || (value !== undefined && value !== 1)) {
      direct(labels, value);
      return;
    }
    let level = tree;
    for (let i = 0; i < last; i++) {
      const key = labels[labelNames[i] as T];
      let next = level.get(key) as SeriesTree<T> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = labels[labelNames[last] as T];
    let series = level.get(key) as PendingSeries<T> | undefined;
    if (series === undefined) {
      series = firstSeen(labels);
      level.set(key, series);
    }
    series.n++;
  };
  counter.inc = inc as Counter<T>['inc'];
  const reset = counter.reset.bind(counter);
  counter.reset = () => {
    tree = new Map();
    all = [];
    reset();
  };
  beforeEveryRead(counter, () => {
    for (const series of all) {
      if (series.n === 0) continue;
      direct(series.labels, series.n);
      series.n = 0;
    }
  });
}

/** prom-client 15's state of an unlabelled histogram: one entry, each observation counted in its first bucket. */
interface HistogramState {
  upperBounds: readonly number[];
  hashMap: Record<string, { bucketValues: Record<number, number>; sum: number; count: number } | undefined>;
  zero(labels: object): void;
}

function histogramStateOf(histogram: Histogram<never>, buckets: readonly number[]): HistogramState | null {
  const state = histogram as unknown as Partial<HistogramState>;
  const bounds = state.upperBounds;
  const entries = state.hashMap === undefined ? [] : Object.values(state.hashMap);
  const entry = entries[0];
  const shaped =
    Array.isArray(bounds) &&
    bounds.length === buckets.length &&
    bounds.every((b, i) => b === buckets[i]) &&
    typeof state.zero === 'function' &&
    entries.length === 1 &&
    entry !== undefined &&
    typeof entry.sum === 'number' &&
    typeof entry.count === 'number' &&
    buckets.every((b) => typeof entry.bucketValues[b] === 'number');
  return shaped ? (state as HistogramState) : null;
}

/**
 * `histogram.observe(value)` of an unlabelled histogram counts into plain bucket counts. The sum is kept as
 * prom-client keeps it (the same additions in the same order), so it is the same double. If prom-client's state is
 * not shaped as expected (another major version), the histogram is left as it is.
 */
export function observeInPlainNumbers(histogram: Histogram<never>, buckets: readonly number[]): void {
  const state = histogramStateOf(histogram, buckets);
  if (state === null) return;
  const direct = histogram.observe.bind(histogram) as (value: number) => void;
  const counts = new Float64Array(buckets.length);
  let count = 0;
  /** The entry's sum as prom-client would hold it: every observation added in order since the last reset. */
  let sum = 0;
  const observe = (value: number): void => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      direct(value);
      return;
    }
    let i = 0;
    while (i < buckets.length && !(value <= (buckets[i] as number))) i++;
    if (i < buckets.length) counts[i] = (counts[i] as number) + 1;
    count++;
    sum += value;
  };
  histogram.observe = observe as Histogram<never>['observe'];
  const reset = histogram.reset.bind(histogram);
  histogram.reset = () => {
    counts.fill(0);
    count = 0;
    sum = 0;
    reset();
  };
  beforeEveryRead(histogram, () => {
    if (count === 0) return;
    let entry = Object.values(state.hashMap)[0];
    if (entry === undefined) {
      state.zero({});
      entry = Object.values(state.hashMap)[0] as NonNullable<typeof entry>;
    }
    for (let i = 0; i < buckets.length; i++) {
      const bound = buckets[i] as number;
      entry.bucketValues[bound] = (entry.bucketValues[bound] as number) + (counts[i] as number);
    }
    entry.count += count;
    entry.sum = sum;
    counts.fill(0);
    count = 0;
  });
}
