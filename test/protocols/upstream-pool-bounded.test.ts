// The HTTP/1.1 upstream pool holds at most --upstream-max-connections connections: HTTP/2 streams beyond it wait for a
// free one and are still answered.
import t from 'tap';
import http2 from 'node:http2';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { startCountingUpstream } from './lib/counting-upstream.js';

t.test('24 concurrent HTTP/2 requests over a pool of 4 upstream connections', async (t) => {
  const pki = makeTestPki();
  const upstream = await startCountingUpstream(200);
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, {
      limits: {
        maxConnections: 512,
        maxHandshakes: 128,
        maxConcurrentStreams: 100,
        upstreamMaxConnections: 4,
        upstreamStreamsPerConnection: 50,
      },
    }),
  );
  const session = http2.connect(`https://localhost:${proxy.port}`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    servername: 'localhost',
  });
  session.on('error', () => undefined);
  t.teardown(async () => {
    session.destroy();
    await proxy.close(0);
    await upstream.close();
    pki.cleanup();
  });
  let peakOpen = 0;
  const sampler = setInterval(() => (peakOpen = Math.max(peakOpen, upstream.counts.open)), 5);
  const statuses = await Promise.all(
    Array.from(
      { length: 24 },
      (_, i) =>
        new Promise<number>((resolve) => {
          const req = session.request({ ':path': `/pool/${i}` });
          let status = 0;
          req.on('response', (h) => (status = Number(h[':status'])));
          req.on('error', () => resolve(-1));
          req.resume();
          req.on('close', () => resolve(status));
        }),
    ),
  );
  clearInterval(sampler);
  t.same(statuses, Array(24).fill(200), 'every request was answered 200');
  t.equal(upstream.counts.requests, 24, 'the upstream served all 24');
  t.ok(
    upstream.counts.connections <= 4,
    `the upstream accepted at most 4 connections (${upstream.counts.connections}; peak open ${peakOpen})`,
  );
});
