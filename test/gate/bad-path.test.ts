// Paths with an encoded slash or backslash, a NUL, or a `..` above the root get 400; the upstream receives nothing.
import t from 'tap';
import { rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

t.test('unsafe paths → 400', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  for (const target of [
    '/a%2fb',
    '/a%2Fb',
    '/a%5cb',
    '/a%00',
    '/../etc/passwd',
    '/a/../../b',
    '/%2e%2e/admin',
    '/admin/..;/x',
  ]) {
    const result = await rawTlsExchange({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      payload: `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    });
    t.match(result.received, /^HTTP\/1\.1 400 /, `${target} refused`);
    t.notMatch(result.received, /stack|Error:/i, 'no stack trace or error text');
  }
  t.equal(upstream.received.length, 0);
});
