// The benchmark's h2load reading (bench/lib/load.mjs parseH2load) on output captured from h2load 1.52 (nghttp2-client):
// a short run that prints its duration in ms, a -D run in s, and a run where every request failed.
import t from 'tap';

interface Parsed {
  requests: number;
  seconds: number;
  rps: number;
  meanMs: number | null;
  non2xx: number;
  socketErrors: number;
}
const load = (await import(new URL('../../bench/lib/load.mjs', import.meta.url).href)) as {
  parseH2load(out: string): Parsed;
};

const SHORT = `finished in 55.57ms, 3599.06 req/s, 174.47KB/s
requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 200 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 9.70KB (9928) total, 988B (988) headers (space savings 94.19%), 3.13KB (3200) data
                     min         max         mean         sd        +/- sd
time for request:      235us     14.35ms      1.87ms      2.30ms    93.00%
time for connect:      143us       410us       245us       115us    75.00%
`;
const TIMED = `finished in 3.00s, 1476.33 req/s, 101.23KB/s
requests: 4429 total, 4493 started, 4429 done, 4421 succeeded, 8 failed, 0 errored, 0 timeout
status codes: 4417 2xx, 0 3xx, 4 4xx, 0 5xx
                     min         max         mean         sd        +/- sd
time for request:     1.02ms    312.50ms     42.29ms     30.11ms    80.00%
`;
const FAILED = `finished in 279us, 0.00 req/s, 0B/s
requests: 50 total, 0 started, 0 done, 0 succeeded, 50 failed, 50 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
`;

t.test('a short run: duration in ms, mean latency in ms', async (t) => {
  t.same(load.parseH2load(SHORT), {
    requests: 200,
    seconds: 0.05557,
    rps: 3599.06,
    meanMs: 1.87,
    non2xx: 0,
    socketErrors: 0,
  });
});

t.test('a timed run: only succeeded requests count; 4xx and failures are reported', async (t) => {
  t.same(load.parseH2load(TIMED), {
    requests: 4421,
    seconds: 3,
    rps: 1476.33,
    meanMs: 42.29,
    non2xx: 4,
    socketErrors: 8,
  });
});

t.test('every request failed', async (t) => {
  const r = load.parseH2load(FAILED);
  t.equal(r.requests, 0);
  t.equal(r.socketErrors, 50);
  t.equal(r.seconds, 0.000279);
});
