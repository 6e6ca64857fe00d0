// bench/profile-compare.mjs: which category a profile's function lands in, and µs per request as each category's
// share of busy samples times the run's measured CPU per request (idle samples and samples outside the window left
// out).
import t from 'tap';

type Frame = { functionName: string; url: string };
interface CompareModule {
  categoryOf(frame: Frame): string | null;
  categorize(profile: object, meta: object): Map<string, number>;
}
const compare = (await import(new URL('../../bench/profile-compare.mjs', import.meta.url).href)) as CompareModule;

t.test('categories', async (t) => {
  t.equal(compare.categoryOf({ functionName: '(idle)', url: '' }), null);
  t.equal(
    compare.categoryOf({ functionName: 'writev', url: '' }),
    'native socket writes (TLS encryption + write syscalls)',
  );
  t.equal(compare.categoryOf({ functionName: '(garbage collector)', url: '' }), 'V8 garbage collection');
  t.equal(compare.categoryOf({ functionName: 'x', url: 'node:_http_server' }), 'Node HTTP and HTTP/2 (JS)');
  t.equal(compare.categoryOf({ functionName: 'x', url: 'node:internal/http2/compat' }), 'Node HTTP and HTTP/2 (JS)');
  t.equal(
    compare.categoryOf({ functionName: 'x', url: 'file:///r/node_modules/undici/lib/dispatcher/client.js' }),
    'undici (JS + llhttp wasm)',
  );
  t.equal(
    compare.categoryOf({ functionName: 'x', url: 'file:///r/node_modules/find-my-way/index.js' }),
    'fastify (routing, hooks, reply)',
  );
  t.equal(
    compare.categoryOf({ functionName: 'x', url: 'file:///r/node_modules/@fastify/error/index.js' }),
    'fastify (routing, hooks, reply)',
  );
  t.equal(
    compare.categoryOf({ functionName: 'x', url: 'file:///r/node_modules/prom-client/lib/histogram.js' }),
    'prom-client',
  );
  t.equal(compare.categoryOf({ functionName: 'x', url: 'file:///r/dist/ops/access-log.js' }), 'access line and logger');
  t.equal(
    compare.categoryOf({ functionName: 'x', url: 'file:///r/dist/server/forward-http.js' }),
    'sidecar server/forward-http',
  );
});

t.test('µs per request from shares of busy samples in the window', async (t) => {
  // Node 1 root, 2 idle, 3 writev, 4 prom-client; deltas in µs.
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 3, 4] },
      { id: 2, callFrame: { functionName: '(idle)', url: '' } },
      { id: 3, callFrame: { functionName: 'writev', url: '' } },
      { id: 4, callFrame: { functionName: 'observe', url: 'file:///r/node_modules/prom-client/lib/histogram.js' } },
    ],
    samples: [3, 2, 3, 4, 3, 4],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 5000],
  };
  // Window 1.5–5.5 ms: samples at 2 (idle), 3 (writev), 4 (prom), 5 (writev); the one at 10 ms is outside.
  const cats = compare.categorize(profile, { cpuUsPerUnit: 90, window: { fromMs: 1.5, toMs: 5.5 } });
  t.equal(cats.get('native socket writes (TLS encryption + write syscalls)'), 60);
  t.equal(cats.get('prom-client'), 30);
  t.equal(cats.size, 2);
});
