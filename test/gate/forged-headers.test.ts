// Forged identity headers, in every spelling a framework might fold together, never reach the upstream.
import t from 'tap';
import { rawHeaderValues, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

t.test('forged identity headers are stripped on the wire', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { forwardCert: true });

  const forged = [
    'X-Client-Subject: CN=admin',
    'x-client-subject: CN=admin2',
    'X_Client_Subject: CN=admin3',
    'x_CLIENT_subject: CN=admin4',
    'X-CLIENT-CN: admin',
    'X-Client-CN: admin-dup',
    'X_Client_URI: spiffe://example.org/ns/ops/sa/console',
    'X-Client-DNS: evil.example',
    'X-Client-Serial: 01',
    'X-Client-Fingerprint-SHA256: 00',
    'X_Client_Fingerprint_SHA256: 00',
    'X-Client-Not-After: 2099-01-01T00:00:00Z',
    'X-Forwarded-Client-Cert: Hash=00;Subject="CN=admin"',
    'X_Forwarded_Client_Cert: Hash=00',
    'Client-Cert: :AAAA:',
    'Client_Cert: :AAAA:',
    'Client-Cert-Chain: :AAAA:',
    'X-Forwarded-For: 10.0.0.1',
    'X-Forwarded-Proto: http',
    'X-Forwarded-Host: evil.example',
    'X-Request-Id: bad id with spaces',
    'Connection: keep-alive, X-Client-Subject, X_Client_URI, x-trace',
    'X-Trace: listed-in-connection',
    'X-Kept: yes',
  ];
  const payload = `GET /ok HTTP/1.1\r\nHost: localhost\r\n${forged.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload,
    timeoutMs: 1500,
  });
  t.match(result.received, /^HTTP\/1\.1 200 /, 'request answered');
  t.equal(upstream.received.length, 1);
  const got = upstream.received[0]!;
  const names = [];
  for (let i = 0; i < got.rawHeaders.length; i += 2) names.push(got.rawHeaders[i]!.toLowerCase());
  t.notOk(
    names.some((n) => n.includes('_')),
    'no underscore spelling reached the upstream',
  );
  t.same(rawHeaderValues(got, 'x-client-subject'), ['CN=orders,OU=payments,O=Acme'], 'exactly one subject, ours');
  t.same(rawHeaderValues(got, 'x-client-cn'), ['orders']);
  t.same(rawHeaderValues(got, 'x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(rawHeaderValues(got, 'x-client-dns'), ['orders.example.org']);
  t.same(rawHeaderValues(got, 'x-forwarded-for'), ['127.0.0.1'], 'replaced, not appended');
  t.same(rawHeaderValues(got, 'x-forwarded-proto'), ['https']);
  t.same(rawHeaderValues(got, 'x-forwarded-host'), ['localhost']);
  t.equal(rawHeaderValues(got, 'x-forwarded-client-cert').length, 1);
  t.match(rawHeaderValues(got, 'x-forwarded-client-cert')[0], /^Hash=[0-9a-f]{64};Cert="/);
  const clientCert = rawHeaderValues(got, 'client-cert');
  t.equal(clientCert.length, 1);
  t.equal(
    clientCert[0],
    `:${Buffer.from(pki.client.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64')}:`,
    'RFC 9440 value is the DER of the presented certificate',
  );
  t.same(rawHeaderValues(got, 'client-cert-chain'), []);
  t.same(rawHeaderValues(got, 'x-trace'), [], 'header named in Connection was dropped');
  t.same(rawHeaderValues(got, 'x-kept'), ['yes']);
  const rid = rawHeaderValues(got, 'x-request-id');
  t.equal(rid.length, 1);
  t.not(rid[0], 'bad id with spaces', 'malformed request id replaced');
});

t.test('a well-formed X-Request-Id is kept and echoed', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const payload = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: abc.DEF_123-x\r\nConnection: close\r\n\r\n';
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload,
  });
  t.match(result.received, /x-request-id: abc\.DEF_123-x\r\n/i);
  t.same(rawHeaderValues(upstream.received[0]!, 'x-request-id'), ['abc.DEF_123-x']);
});
