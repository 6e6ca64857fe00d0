// Test upstream speaking only cleartext HTTP/2 (prior knowledge; HTTP/1.1 bytes end the session), recording every
// request.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { baseConfig, makeTestPki, startTestProxy, type TestPki, type TestProxy } from '../../helpers/gate-harness.js';

export interface SeenH2 {
  httpVersion: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

export interface H2cOnlyUpstream {
  url: string;
  seen: SeenH2[];
  sessions: () => number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1; answers every request `h2 ok` once its body has arrived. */
export async function startH2cOnlyUpstream(): Promise<H2cOnlyUpstream> {
  const seen: SeenH2[] = [];
  let sessionCount = 0;
  const server = http2.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ httpVersion: req.httpVersion, url: req.url, rawHeaders: req.rawHeaders, body });
      res.end('h2 ok');
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessionCount += 1;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    sessions: () => sessionCount,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * The test proxy with `--upstream-protocol h2` in front of a fresh h2c-only upstream; everything is closed in
 * teardown.
 */
export async function startH2Rig(t: {
  teardown(fn: () => Promise<void>): void;
}): Promise<{ pki: TestPki; upstream: H2cOnlyUpstream; proxy: TestProxy }> {
  const pki = makeTestPki();
  const upstream = await startH2cOnlyUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { upstreamProtocol: 'h2' }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  return { pki, upstream, proxy };
}
