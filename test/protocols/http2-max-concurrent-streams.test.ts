// The HTTP/2 listener advertises SETTINGS_MAX_CONCURRENT_STREAMS (--max-concurrent-streams, default 100) and a stream
// above it never reaches the upstream.
import t from 'tap';
import type { ServerResponse } from 'node:http';
import {
  baseConfig,
  makeTestPki,
  startGateStack,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import {
  connectRawH2,
  ERROR,
  errorCodeOf,
  FLAG,
  FRAME,
  headersFrame,
  requestHeaders,
  SETTING,
  settingsOf,
  type RawH2,
} from './lib/raw-h2-frames.js';

async function serverSettings(h2: RawH2): Promise<Map<number, number>> {
  const first = await h2.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0);
  return first === null ? new Map() : settingsOf(first);
}

t.test('the default is advertised in the server SETTINGS frame: 100', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const h2 = await connectRawH2({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
  });
  t.equal((await serverSettings(h2)).get(SETTING.MAX_CONCURRENT_STREAMS), 100);
  h2.socket.destroy();
});

t.test('a stream above --max-concurrent-streams never reaches the upstream: GOAWAY PROTOCOL_ERROR', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const held: ServerResponse[] = [];
  upstream.handler = (_req, res) => held.push(res); // answers nothing: the streams stay open
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, {
      limits: {
        maxConnections: 512,
        maxHandshakes: 128,
        maxConcurrentStreams: 3,
        upstreamMaxConnections: 512,
        upstreamStreamsPerConnection: 50,
      },
    }),
  );
  t.teardown(async () => {
    for (const res of held) res.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const h2 = await connectRawH2({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
  });
  t.equal((await serverSettings(h2)).get(SETTING.MAX_CONCURRENT_STREAMS), 3, 'advertised as configured');
  await h2.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0);
  for (const id of [1, 3, 5]) h2.send(headersFrame(id, requestHeaders(`/held/${id}`), true));
  const deadline = Date.now() + 10_000;
  while (upstream.received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(upstream.received.length, 3, 'three streams reached the upstream');

  // nghttp2 treats a stream over the acknowledged limit as a connection error (RFC 9113 §5.1.2 allows that or a
  // stream error): GOAWAY PROTOCOL_ERROR naming stream 5 as the last one processed, then the connection closes.
  h2.send(headersFrame(7, requestHeaders('/held/7'), true));
  const goaway = await h2.waitFor((f) => f.type === FRAME.GOAWAY);
  t.ok(goaway !== null, 'a stream over the limit gets GOAWAY');
  if (goaway !== null) {
    t.equal(errorCodeOf(goaway), ERROR.PROTOCOL_ERROR, 'PROTOCOL_ERROR');
    t.equal(goaway.payload.readUInt32BE(0) & 0x7fffffff, 5, 'last stream id 5: stream 7 was not processed');
  }
  await h2.closed;
  t.pass('and the connection is closed: a client that ignores the advertised limit loses its connection');
  t.same(
    upstream.received.map((r) => r.url).sort(),
    ['/held/1', '/held/3', '/held/5'],
    'the upstream never saw the stream over the limit',
  );
  h2.socket.destroy();
});
