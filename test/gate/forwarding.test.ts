// An authorized caller is forwarded with identity headers; the upstream sees the normalized path and the raw query.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { httpsRequest, rawHeaderValues, startGateStack } from '../helpers/gate-harness.js';

t.test('authorized GET reaches the upstream with identity headers', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);

  // curl is the independent client here.
  const { stdout: out } = await run('curl', [
    '-sS',
    '--cacert',
    pki.ca.cert,
    '--cert',
    pki.client.cert,
    '--key',
    pki.client.key,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `https://localhost:${proxy.port}/api/v1/items?q=a%2Fb&x=1`,
    '--resolve',
    `localhost:${proxy.port}:127.0.0.1`,
  ]);
  t.equal(out, '200');
  t.equal(upstream.received.length, 1);
  const got = upstream.received[0]!;
  t.equal(got.url, '/api/v1/items?q=a%2Fb&x=1', 'path and raw query forwarded untouched');
  t.same(rawHeaderValues(got, 'x-client-subject'), ['CN=orders,OU=payments,O=Acme']);
  t.same(rawHeaderValues(got, 'x-client-cn'), ['orders']);
  t.same(rawHeaderValues(got, 'x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(rawHeaderValues(got, 'x-client-dns'), ['orders.example.org']);
  t.same(rawHeaderValues(got, 'x-forwarded-proto'), ['https']);
  t.same(rawHeaderValues(got, 'x-forwarded-for'), ['127.0.0.1']);
  t.equal(rawHeaderValues(got, 'x-request-id').length, 1);

  const logs = proxy.logLines().filter((l) => l.msg === 'access');
  t.equal(logs.length, 1);
  t.equal(logs[0]!.path, '/api/v1/items', 'access log path has no query');
  t.equal(logs[0]!.decision, 'allow');
});

t.test('POST bodies stream intact in both directions', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'abcdefghij');
  const res = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    method: 'POST',
    path: '/upload',
    body,
  });
  t.equal(res.status, 200);
  t.equal(upstream.received[0]!.body.length, body.length);
  t.ok(upstream.received[0]!.body.equals(body), 'upstream got the exact bytes');
});
