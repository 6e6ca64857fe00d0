// The benchmark's ratio arithmetic (bench/lib/report.mjs), on figures whose ratios are known by hand: per-round
// pairing by round number, the median, the range, and failed rounds (no requests: Infinity or NaN) left out.
import t from 'tap';

interface Paired {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}
interface ReportModule {
  pairedRatio(rounds: object[], baseRounds: object[], metric: string): Paired | null;
  median(values: unknown[]): number | null;
}

const report = (await import(new URL('../../../bench/lib/report.mjs', import.meta.url).href)) as ReportModule;
const rows = (values: number[]): Array<{ round: number; cpu: number }> => values.map((cpu, round) => ({ round, cpu }));

t.test('each round against the baseline of the same round', async (t) => {
  // Rounds listed in a different order on each side: pairing is by round number, not by position.
  const contender = [
    { round: 2, cpu: 120 },
    { round: 0, cpu: 60 },
    { round: 1, cpu: 90 },
  ];
  const base = rows([30, 30, 40]);
  t.same(report.pairedRatio(contender, base, 'cpu'), { median: 3, min: 2, max: 3, rounds: [3, 2, 3] });
});

t.test('a failed round gives no ratio, on either side', async (t) => {
  t.same(report.pairedRatio(rows([60, Infinity, 90, 80]), rows([30, 30, 30, Infinity]), 'cpu'), {
    median: 2.5,
    min: 2,
    max: 3,
    rounds: [2, 3],
  });
  t.same(report.pairedRatio(rows([60, NaN]), rows([30, 0]), 'cpu'), { median: 2, min: 2, max: 2, rounds: [2] });
  t.equal(report.pairedRatio(rows([Infinity]), rows([30]), 'cpu'), null, 'no round left: no ratio');
});

t.test('median of an even count is the mean of the middle two; non-numbers ignored', async (t) => {
  t.equal(report.median([4, 1, 3, 2]), 2.5);
  t.equal(report.median([5, null, 'x', 1, 3]), 3);
  t.equal(report.median([]), null);
});
