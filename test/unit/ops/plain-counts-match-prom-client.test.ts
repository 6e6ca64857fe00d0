// Counts kept in plain numbers until a read give the exposition prom-client's own inc/observe give for the same calls
// (prom-client is the oracle: the same metric made twice, one of them counted in plain numbers), read after read,
// across resets; an invalid label still throws at the call; a histogram sum is the same double.
import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { countInPlainNumbers, observeInPlainNumbers } from '../../../src/ops/plain-counts.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function makePair(plain: boolean) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'requests_total',
    help: 'Requests',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'decisions_total',
    help: 'D',
    labelNames: ['decision'],
    registers: [registry],
  });
  const duration = new Histogram({ name: 'duration_seconds', help: 'T', buckets: [...BUCKETS], registers: [registry] });
  decisions.inc({ decision: 'allow' }, 0);
  decisions.inc({ decision: 'deny' }, 0);
  if (plain) {
    countInPlainNumbers(requests, ['method', 'code']);
    countInPlainNumbers(decisions, ['decision']);
    observeInPlainNumbers(duration, BUCKETS);
  }
  return { registry, requests, decisions, duration };
}

type Pair = ReturnType<typeof makePair>;

/**
 * A deterministic mix: label sets seen in varying key order, explicit values, a number for a string label value,
 * durations across every bucket and +Inf.
 */
function traffic(m: Pair, seed: number, n: number): void {
  const methods = ['GET', 'POST', 'OTHER', 'DELETE'];
  const codes = ['200', '404', '502', '499', '200'];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const method = methods[x % methods.length] as string;
    const code = codes[(x >> 3) % codes.length] as string;
    if (i % 2 === 0) m.requests.inc({ method, code });
    else m.requests.inc({ code, method });
    if (i % 97 === 0) m.requests.inc({ method, code }, 3);
    if (i % 31 === 0) m.requests.inc({ method, code: Number(code) });
    m.decisions.inc({ decision: x % 7 === 0 ? 'deny' : x % 11 === 0 ? 'bad_request' : 'allow' });
    m.duration.observe(((x % 100_000) / 100_000) ** 3 * 40 + (i % 13 === 0 ? 0.001 : 0));
  }
}

t.test('the exposition and the JSON are those of prom-client, read after read', async (t) => {
  const reference = makePair(false);
  const plain = makePair(true);
  t.equal(await plain.registry.metrics(), await reference.registry.metrics(), 'before any traffic');
  for (const [seed, n] of [
    [1, 1],
    [7, 500],
    [42, 3000],
  ] as const) {
    traffic(reference, seed, n);
    traffic(plain, seed, n);
    t.equal(await plain.registry.metrics(), await reference.registry.metrics(), `text after ${n} more requests`);
    t.same(await plain.registry.getMetricsAsJSON(), await reference.registry.getMetricsAsJSON(), 'JSON');
  }
  t.equal(await plain.registry.metrics(), await reference.registry.metrics(), 'a read with nothing new');
  const sumOf = async (r: Registry) =>
    (await r.getSingleMetric('duration_seconds')?.get())?.values.find(
      (v) => (v as { metricName?: string }).metricName === 'duration_seconds_sum',
    );
  t.equal((await sumOf(plain.registry))?.value, (await sumOf(reference.registry))?.value, 'the same double sum');
});

t.test('after a reset, as prom-client', async (t) => {
  const reference = makePair(false);
  const plain = makePair(true);
  traffic(reference, 3, 200);
  traffic(plain, 3, 200);
  for (const m of [reference, plain]) {
    m.requests.reset();
    m.duration.reset();
  }
  t.equal(await plain.registry.metrics(), await reference.registry.metrics(), 'reset before a read');
  traffic(reference, 5, 50);
  traffic(plain, 5, 50);
  t.equal(await plain.registry.metrics(), await reference.registry.metrics(), 'counting again after the reset');
});

t.test('an unknown label is refused at the call, as by prom-client', async (t) => {
  const plain = makePair(true);
  t.throws(() => plain.requests.inc({ method: 'GET', route: '/x' } as never));
  t.throws(() => plain.duration.observe(Number.NaN));
});
