// HTTP/2 rapid reset (CVE-2023-44487): streams opened and reset at once start no upstream work, a connection that
// keeps resetting is told to calm down, and the upstream pool stays bounded.
import t from 'tap';
import { baseConfig, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';
import { RESET_BURST, RESETS_PER_SECOND } from '../../src/listener/rapid-reset.js';
import { startCountingUpstream } from './lib/counting-upstream.js';
import {
  connectRawH2,
  ERROR,
  errorCodeOf,
  FLAG,
  FRAME,
  headersFrame,
  pingFrame,
  requestHeaders,
  rstStreamFrame,
} from './lib/raw-h2-frames.js';

const PAIRS_PER_BATCH = 20;

t.test(
  'rapid reset: HEADERS + RST_STREAM pairs start no upstream work and end in GOAWAY ENHANCE_YOUR_CALM',
  async (t) => {
    const pki = makeTestPki();
    const upstream = await startCountingUpstream(5000);
    const proxy = await startTestProxy(baseConfig(pki, upstream.url));
    t.teardown(async () => {
      await proxy.close(0);
      await upstream.close();
      pki.cleanup();
    });
    const tlsOpts = { port: proxy.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };

    // Bounded: 10 connections, each sending batches of pairs until the proxy ends it or 5,000 pairs were sent. Each
    // batch ends with a PING whose ACK is awaited, so the proxy has handled the batch before the next one (an
    // unpaced flood is stopped by Node itself: streams not yet released by JavaScript count against the stream
    // limit, and Node ends the session with INTERNAL_ERROR once it had to refuse too many).
    let pairs = 0;
    const goaways: number[] = [];
    const pairsBeforeGoaway: number[] = [];
    const allowance: number[] = [];
    for (let c = 0; c < 10; c += 1) {
      const h2 = await connectRawH2(tlsOpts);
      await h2.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0);
      let id = 1;
      let sent = 0;
      const started = Date.now();
      for (
        let batch = 1;
        sent < 5000 && !h2.socket.destroyed && !h2.frames.some((f) => f.type === FRAME.GOAWAY);
        batch += 1
      ) {
        const frames: Buffer[] = [];
        for (let i = 0; i < PAIRS_PER_BATCH; i += 1, id += 2)
          frames.push(headersFrame(id, requestHeaders(`/reset/${c}/${id}`), true), rstStreamFrame(id));
        h2.send(Buffer.concat([...frames, pingFrame(batch)]));
        sent += PAIRS_PER_BATCH;
        await h2.waitFor(
          (f) =>
            (f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.readUInt32BE(4) === batch) ||
            f.type === FRAME.GOAWAY,
          5000,
        );
      }
      pairs += sent;
      pairsBeforeGoaway.push(sent);
      // The budget refills while the connection lives; one batch may be in flight when it runs out.
      allowance.push(RESET_BURST + Math.ceil(((Date.now() - started) / 1000) * RESETS_PER_SECOND) + PAIRS_PER_BATCH);
      const goaway = await h2.waitFor((f) => f.type === FRAME.GOAWAY, 5000);
      if (goaway !== null) goaways.push(errorCodeOf(goaway));
      h2.socket.destroy();
    }
    // The upstream counts below are upper bounds (a negative assertion): any request or connection a reset stream
    // started would reach the upstream within this second.
    await new Promise((r) => setTimeout(r, 1000));
    t.comment(
      `rapid reset: ${pairs} HEADERS+RST_STREAM pairs over 10 connections; upstream accepted ${upstream.counts.connections} connections and began ${upstream.counts.requests} requests; GOAWAY codes ${JSON.stringify(goaways)} after ${JSON.stringify(pairsBeforeGoaway)} pairs`,
    );
    t.same(
      goaways,
      Array(10).fill(ERROR.ENHANCE_YOUR_CALM),
      'every connection that kept resetting got GOAWAY ENHANCE_YOUR_CALM',
    );
    t.ok(
      pairsBeforeGoaway.every((n, i) => n <= allowance[i]!),
      `each connection was closed within the reset budget (${RESET_BURST} + ${RESETS_PER_SECOND}/s): allowed ${JSON.stringify(allowance)}`,
    );
    t.ok(
      upstream.counts.requests <= 10,
      `reset streams started (almost) no upstream requests (${upstream.counts.requests})`,
    );
    t.ok(
      upstream.counts.connections <= 10,
      `and opened (almost) no upstream connections (${upstream.counts.connections})`,
    );

    // The proxy still serves: an ordinary request on a fresh connection gets its answer.
    const h2 = await connectRawH2(tlsOpts);
    h2.send(headersFrame(1, requestHeaders('/after'), true));
    const answer = await h2.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 1, 15_000);
    t.ok(answer !== null, 'a normal request afterwards is answered');
    h2.socket.destroy();
  },
);
