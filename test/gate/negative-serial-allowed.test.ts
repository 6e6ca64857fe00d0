// `--allow-serial -1001` is accepted and matches the certificate whose serial the proxy itself writes as -1001.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { makeCert } from '../helpers/hostile-pki.js';
import { rawTlsExchange } from '../helpers/gate-harness.js';
import { proxyArgs, startProxyProcess } from '../soak/lib/processes.mjs';

t.test('a negative serial in --allow-serial', async (t) => {
  const dir = makeTmpDir('mtls-negserial-');
  const root = makeCa(dir, 'Serial Root CA');
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const negative = makeCert(dir, 'negative', { issuer: root, serial: '-0x1001' });
  const positive = makeCert(dir, 'positive', { issuer: root, serial: '0x1001' });
  t.match(
    openssl(['x509', '-noout', '-serial', '-in', negative.cert]),
    /serial=-1001/,
    'openssl reads the serial as -1001',
  );
  const seen: string[] = [];
  const upstream = http.createServer((req, res) => {
    seen.push(String(req.headers['x-client-serial']));
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await startProxyProcess({
    args: proxyArgs({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      cert: server.cert,
      key: server.key,
      clientCa: root.cert,
      extra: ['--allow-serial', '-1001'],
    }),
  });
  t.teardown(async () => {
    await proxy.stop('SIGKILL', 2000);
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    removeDir(dir);
  });
  const get = (c: { certPem: string; keyPem: string }) =>
    rawTlsExchange({
      port: proxy.port,
      ca: root.certPem,
      cert: c.certPem,
      key: c.keyPem,
      payload: 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      timeoutMs: 10_000,
    });
  t.match((await get(negative)).received, /^HTTP\/1\.1 200/, 'the -1001 certificate is admitted');
  t.same(seen, ['-1001'], 'and forwarded as X-Client-Serial: -1001');
  t.match((await get(positive)).received, /^HTTP\/1\.1 403/, 'serial 1001 (positive) is not');
  t.same(seen, ['-1001'], 'the upstream saw nothing more');
});
