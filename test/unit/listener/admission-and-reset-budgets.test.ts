// The two pure rules behind the admission limits and the rapid-reset budget, case by case.
import t from 'tap';
import { acceptCeiling } from '../../../src/listener/admission-limits.js';
import { createResetBudget } from '../../../src/listener/rapid-reset.js';

t.test('acceptCeiling: how many connections may be open now', async (t) => {
  const limits = { maxConnections: 10, maxHandshakes: 3 };
  const cases: Array<[open: number, handshaking: number, ceiling: number]> = [
    [0, 0, 3], // nothing open: three handshakes may start
    [2, 2, 3], // two handshaking: one more
    [3, 3, 3], // handshake limit reached: no new connection
    [5, 0, 8], // five verified: three handshakes on top
    [9, 1, 10], // the connection limit caps it
    [10, 0, 10],
    [12, 4, 10], // above both (a limit lowered under load): nothing new
  ];
  for (const [open, handshaking, ceiling] of cases)
    t.equal(acceptCeiling(limits, open, handshaking), ceiling, `open ${open}, handshaking ${handshaking}`);
});

t.test('createResetBudget: a burst, then a steady rate', async (t) => {
  let now = 0;
  const budget = createResetBudget(5, 2, () => now);
  const takes = (n: number): boolean[] => Array.from({ length: n }, () => budget.take());
  t.same(takes(6), [true, true, true, true, true, false], 'the burst, then refused');
  now += 500; // half a second at 2/s: one token back
  t.same(takes(2), [true, false]);
  now += 10_000; // refills to the burst, never beyond
  t.same(takes(6), [true, true, true, true, true, false]);
});
