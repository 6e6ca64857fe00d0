// Hop-by-hop headers of the upstream's response are not relayed: the caller's Connection: close is honoured and our
// own keep-alive applies.
import t from 'tap';
import {
  baseConfig,
  makeTestPki,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { curl } from './lib/curl.js';

t.test('upstream Connection/Keep-Alive and the headers it lists stay on the upstream hop', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  upstream.handler = (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/plain',
      connection: 'keep-alive, X-Hop-Secret',
      'keep-alive': 'timeout=5',
      'x-hop-secret': 'upstream-only',
      'proxy-connection': 'keep-alive',
      trailer: 'x-checksum',
      'x-end-to-end': 'kept',
    });
    res.end('body');
  };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { idleTimeoutMs: 7000 }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const client = { port: proxy.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };

  const started = Date.now();
  const closing = await rawTlsExchange({
    ...client,
    payload: 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
  });
  const head = closing.received.split('\r\n\r\n')[0] ?? '';
  t.match(head, /^HTTP\/1\.1 200 /);
  t.match(head, /\r\nconnection: close(\r\n|$)/i, 'Connection: close answered');
  t.ok(Date.now() - started < 2000, 'and the connection closed right after the response');
  t.notMatch(head, /keep-alive: timeout=5/i, "the upstream's Keep-Alive is not relayed");
  t.notMatch(
    head,
    /x-hop-secret|proxy-connection|\r\ntrailer:/i,
    'nor headers it named in Connection, nor other hop-by-hop headers',
  );
  t.match(head, /\r\nx-end-to-end: kept(\r\n|$)/i, 'end-to-end headers pass');

  const keep = await rawTlsExchange({
    ...client,
    timeoutMs: 500,
    payload: 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n',
  });
  t.match(keep.received, /\r\nkeep-alive: timeout=7(\r\n|$)/i, 'a keep-alive caller learns our --idle-timeout');

  const h2 = await curl({ port: proxy.port, ca: pki.ca.cert, client: pki.client, path: '/x', args: ['-D', '-'] });
  t.equal(h2.httpVersion, '2');
  t.notMatch(h2.body, /x-hop-secret|keep-alive|connection:/i, 'HTTP/2: no connection-specific headers');
  t.match(h2.body, /x-end-to-end: kept/);
});
