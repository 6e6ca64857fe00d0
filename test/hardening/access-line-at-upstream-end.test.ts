// The access line and requests_total of a forwarded request are written when the exchange with the upstream ends, not
// when the caller's connection has taken the last byte (or goes).
import t from 'tap';
import { metricValue, startGateStack } from '../helpers/gate-harness.js';
import { Flag, FrameType, PREFACE, frame, rawH2Exchange, requestHeaders } from '../helpers/h2-frames.js';
import { accessLines, waitFor } from './lib/raw.js';

t.test('an HTTP/2 caller that never opens its flow-control window still gets its exchange logged', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { idleTimeoutMs: 60_000 });

  // SETTINGS_INITIAL_WINDOW_SIZE = 0: the proxy may send headers but not one byte of body until a WINDOW_UPDATE.
  const settings = Buffer.from([0x00, 0x04, 0, 0, 0, 0]);
  const flight = Buffer.concat([
    PREFACE,
    frame(FrameType.SETTINGS, 0, 0, settings),
    frame(
      FrameType.HEADERS,
      Flag.END_HEADERS | Flag.END_STREAM,
      1,
      requestHeaders('GET', '/window-zero', [['x-request-id', 'window-zero']]),
    ),
  ]);
  let connectionOpen = true;
  let done = (): void => undefined;
  const until = new Promise<void>((resolve) => {
    done = resolve;
  });
  const conn = rawH2Exchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    flight,
    timeoutMs: 30_000,
    until,
  }).finally(() => {
    connectionOpen = false;
  });
  t.teardown(() => {
    done();
    return conn;
  });

  const line = () => accessLines(proxy.logLines()).find((l) => l.requestId === 'window-zero');
  t.ok(await waitFor(() => upstream.received.length === 1, 10_000), 'the upstream answered the request');
  t.ok(await waitFor(() => line() !== undefined, 10_000), 'the access line is written');
  t.ok(connectionOpen, 'while the caller still holds its connection (and the body) open');
  t.match(line(), { status: 200, decision: 'allow', path: '/window-zero', method: 'GET' });
  t.equal(await metricValue(proxy, 'mtls_sidecar_requests_total', { method: 'GET', code: '200' }), 1, 'and counted');
});
