// A flood of bad handshakes cannot flood the log: at most 20 rejection lines per window, then one summary line
// counting what was held back by reason; the metric still counts every rejection (the limiter alone: test/unit/ops).
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  metricValue,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { waitFor } from '../helpers/wait-for.js';

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
    await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      payload: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      timeoutMs: 1000,
    });
  }
  const counted = (): Promise<number> =>
    metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'no_certificate' });
  // The server learns of each failed handshake asynchronously: wait for the count to arrive, then check it exactly.
  await waitFor(async () => (await counted()) >= FLOOD, {
    timeoutMs: 10_000,
    what: `${FLOOD} no_certificate failures counted`,
  });
  t.equal(await counted(), FLOOD, 'every rejection counted');
  const isRejection = (l: Record<string, unknown>) =>
    l.msg === 'tls connection rejected' || l.msg === 'tls handshake failed';
  t.equal(proxy.logLines().filter(isRejection).length, 20, 'at most 20 rejection lines in the window');
  // Closing flushes the pending summary rather than waiting for the 10 s window.
  await proxy.close(100);
  const summary = proxy.logLines().find((l) => l.msg === 'tls rejections suppressed from the log');
  t.same(summary?.suppressed, { no_certificate: FLOOD - 20 });
  t.equal(summary?.total, FLOOD - 20);
  t.equal(upstream.received.length, 0);
});
