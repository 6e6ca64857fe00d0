// Forwarding to https:// (verified with --upstream-ca) and unix: upstreams; a client-sent intermediate completes the chain.
import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chainPem, makeCa, makeLeaf } from '../helpers/pki.js';
import { baseConfig, httpsRequest, makeTestPki, startTestProxy } from '../helpers/gate-harness.js';

function echoHandler(seen: http.IncomingHttpHeaders[]) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  };
}

t.test('https upstream verified against --upstream-ca', async (t) => {
  const pki = makeTestPki();
  const seen: http.IncomingHttpHeaders[] = [];
  const upstream = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, echoHandler(seen));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const good = await startTestProxy(baseConfig(pki, url, { upstreamCa: pki.ca.cert }));
  const otherCa = makeCa(pki.dir, 'Other CA');
  const bad = await startTestProxy(baseConfig(pki, url, { upstreamCa: otherCa.cert }));
  t.teardown(async () => {
    await good.close(100);
    await bad.close(100);
    upstream.closeAllConnections();
    upstream.close();
    pki.cleanup();
  });
  const client = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
  const ok = await httpsRequest({ port: good.port, ...client });
  t.equal(ok.status, 200);
  t.equal(seen.length, 1);
  t.equal(seen[0]!['x-client-cn'], 'orders');
  const refused = await httpsRequest({ port: bad.port, ...client });
  t.equal(refused.status, 502, 'an upstream certificate from another CA is not trusted');
  t.same(Object.keys(JSON.parse(refused.body)).sort(), ['error', 'requestId']);
  t.equal(seen.length, 1, 'nothing reached the upstream through the unverified connection');
});

t.test('unix socket upstream', async (t) => {
  const pki = makeTestPki();
  const seen: http.IncomingHttpHeaders[] = [];
  const socketPath = join(pki.dir, 'api.sock');
  const upstream = http.createServer(echoHandler(seen));
  await new Promise<void>((r) => upstream.listen(socketPath, r));
  const config = baseConfig(pki, 'http://127.0.0.1:1');
  config.upstream = { kind: 'unix', socketPath, origin: `unix:${socketPath}` };
  const proxy = await startTestProxy(config);
  t.teardown(async () => {
    await proxy.close(100);
    upstream.closeAllConnections();
    upstream.close();
    pki.cleanup();
  });
  const res = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/via/socket',
  });
  t.equal(res.status, 200);
  t.equal(res.body, 'ok');
  t.equal(seen[0]!['x-client-uri'], 'spiffe://example.org/ns/prod/sa/orders');
});

t.test('a leaf issued by an intermediate the client sends is admitted', async (t) => {
  const pki = makeTestPki();
  const seen: http.IncomingHttpHeaders[] = [];
  const upstream = http.createServer(echoHandler(seen));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await startTestProxy(baseConfig(pki, `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
  t.teardown(async () => {
    await proxy.close(100);
    upstream.closeAllConnections();
    upstream.close();
    pki.cleanup();
  });
  const intermediate = makeCa(pki.dir, 'Issuing CA', { issuer: pki.ca });
  const leaf = makeLeaf(pki.dir, 'billing', intermediate, { san: ['URI:spiffe://example.org/ns/prod/sa/billing'] });
  const res = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: chainPem(leaf, intermediate),
    key: leaf.keyPem,
  });
  t.equal(res.status, 200);
  t.equal(seen[0]!['x-client-uri'], 'spiffe://example.org/ns/prod/sa/billing');
  await t.rejects(
    httpsRequest({ port: proxy.port, ca: pki.ca.certPem, cert: leaf.certPem, key: leaf.keyPem }),
    'without the intermediate the chain cannot be built and the connection is refused',
  );
  t.equal(seen.length, 1);
  // Strays and repeats before the real intermediate (OpenSSL still builds the path): the gate must find it too.
  const stray = makeCa(pki.dir, 'Stray CA');
  const cluttered = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: chainPem(leaf, stray, stray, intermediate),
    key: leaf.keyPem,
  });
  t.equal(cluttered.status, 200, 'a chain sent with a repeated stray certificate before the intermediate is admitted');
  t.equal(seen.length, 2);
});
