// A flood of bad handshakes cannot flood the log: at most 20 rejection lines per window, then one summary line
// counting what was held back by reason; the metric still counts every rejection.
import t from 'tap';
import { createRateLimitedLog } from '../../src/ops/rate-limited-log.js';
import { baseConfig, makeTestPki, metricValue, rawTlsExchange, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';

t.test('the limiter: limit per window, then a summary, then lines again', async (t) => {
  const summaries: Array<{ suppressed: Record<string, number>; total: number }> = [];
  const emitted: string[] = [];
  const limiter = createRateLimitedLog({ limit: 2, windowMs: 150 }, (suppressed, total) => summaries.push({ suppressed, total }));
  t.teardown(() => limiter.stop());
  for (const key of ['a', 'b', 'a', 'a', 'b']) limiter.log(key, () => emitted.push(key));
  t.same(emitted, ['a', 'b'], 'only the first two lines');
  await new Promise((r) => setTimeout(r, 250));
  t.same(summaries, [{ suppressed: { a: 2, b: 1 }, total: 3 }], 'one summary with counts by key');
  limiter.log('c', () => emitted.push('c'));
  t.same(emitted, ['a', 'b', 'c'], 'a new window lets lines through again');
  await new Promise((r) => setTimeout(r, 250));
  t.equal(summaries.length, 1, 'no summary for a window with nothing held back');
});

t.test('a flood of certificate-less handshakes', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url));
  t.teardown(async () => {
    await upstream.close();
    pki.cleanup();
  });
  const FLOOD = 35;
  for (let i = 0; i < FLOOD; i++) {
    await rawTlsExchange({ port: proxy.port, ca: pki.ca.certPem, payload: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', timeoutMs: 1000 });
  }
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'no_certificate' }), FLOOD, 'every rejection counted');
  const isRejection = (l: Record<string, unknown>) => l.msg === 'tls connection rejected' || l.msg === 'tls handshake failed';
  t.equal(proxy.logLines().filter(isRejection).length, 20, 'at most 20 rejection lines in the window');
  // Closing flushes the pending summary rather than waiting for the 10 s window.
  await proxy.close(100);
  const summary = proxy.logLines().find((l) => l.msg === 'tls rejections suppressed from the log');
  t.same(summary?.suppressed, { no_certificate: FLOOD - 20 });
  t.equal(summary?.total, FLOOD - 20);
  t.equal(upstream.received.length, 0);
});
