// The one drain flag of a process: raised before the drain's first step runs, the drain runs once, a repeated stop only
// cuts when asked for with no grace, and readiness reads the same flag (no sockets: pure pieces).
import t from 'tap';
import { createDrain } from '../../../src/lifecycle/drain.js';
import { createReadiness } from '../../../src/ops/readiness.js';

t.test('the flag is up before the drain starts, and the drain runs once', async (t) => {
  const calls: string[] = [];
  let finish: () => void = () => undefined;
  const drain = createDrain({
    drain: (graceMs) => {
      calls.push(`drain ${graceMs} draining=${drain.isDraining()}`);
      return new Promise<void>((resolve) => (finish = resolve));
    },
    cut: () => calls.push('cut'),
  });
  t.equal(drain.isDraining(), false, 'not draining before a stop');
  const first = drain.close(5000);
  t.equal(drain.isDraining(), true);
  const again = drain.close(3000);
  t.equal(again, first, 'a second stop returns the same drain');
  t.same(
    calls,
    ['drain 5000 draining=true'],
    'the drain ran once, with the flag already up; a second stop with grace cuts nothing',
  );
  drain.close(0);
  t.same(calls, ['drain 5000 draining=true', 'cut'], 'a stop with no grace while draining cuts what is left');
  finish();
  await first;
  t.equal(drain.isDraining(), true, 'the flag stays up once drained');
});

t.test('close(0) before any drain drains with no grace (nothing to cut yet)', async (t) => {
  const calls: string[] = [];
  const drain = createDrain({
    drain: async (graceMs) => void calls.push(`drain ${graceMs}`),
    cut: () => calls.push('cut'),
  });
  await drain.close(0);
  t.same(calls, ['drain 0']);
});

t.test('readiness reads the drain flag, then what serves, then the upstream', async (t) => {
  const upstream = { reachable: true, stop: () => undefined };
  let notServing: string | null = 'workers ready 1/2';
  const drain = createDrain({ drain: async () => undefined, cut: () => undefined });
  const readiness = createReadiness({ isDraining: drain.isDraining, serving: () => notServing, upstream });
  t.same(readiness.notReadyReasons(), ['workers ready 1/2']);
  notServing = null;
  t.same(readiness.notReadyReasons(), [], 'ready');
  upstream.reachable = false;
  t.same(readiness.notReadyReasons(), ['upstream not reachable']);
  await drain.close(1000);
  notServing = 'not listening';
  t.same(readiness.notReadyReasons(), ['draining', 'not listening', 'upstream not reachable'], 'all reasons, in order');
});
