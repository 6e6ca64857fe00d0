// The rejection-log limiter: at most `limit` lines per window, then one summary counting what was held back by key.
// Node's mock timers drive the window, so the test waits on no real clock.
import { mock } from 'node:test';
import t from 'tap';
import { createRateLimitedLog } from '../../../src/ops/rate-limited-log.js';

t.test('the limiter: limit per window, then a summary, then lines again', async (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  const summaries: Array<{ suppressed: Record<string, number>; total: number }> = [];
  const emitted: string[] = [];
  const limiter = createRateLimitedLog({ limit: 2, windowMs: 150 }, (suppressed, total) =>
    summaries.push({ suppressed, total }),
  );
  t.teardown(() => {
    limiter.stop();
    mock.timers.reset();
  });
  for (const key of ['a', 'b', 'a', 'a', 'b']) limiter.log(key, () => emitted.push(key));
  t.same(emitted, ['a', 'b'], 'only the first two lines');
  mock.timers.tick(250);
  t.same(summaries, [{ suppressed: { a: 2, b: 1 }, total: 3 }], 'one summary with counts by key');
  limiter.log('c', () => emitted.push('c'));
  t.same(emitted, ['a', 'b', 'c'], 'a new window lets lines through again');
  mock.timers.tick(250);
  t.equal(summaries.length, 1, 'no summary for a window with nothing held back');
});
