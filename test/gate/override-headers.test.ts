// Method/URL override and client-address convention headers never reach the upstream; Expect: 100-continue uploads
// work.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawHeaderValues, rawTlsExchange, startGateStack } from '../helpers/gate-harness.js';

const run = promisify(execFile);

t.test('override headers are stripped; 100-continue uploads pass', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const forged = [
    'X-HTTP-Method-Override',
    'X_HTTP_Method_Override',
    'X-HTTP-Method',
    'X-Method-Override',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-Forwarded-Prefix',
    'X-Forwarded-Ssl',
    'Front-End-Https',
    'X-Url-Scheme',
    'True-Client-IP',
    'X-Client-IP',
    'X-Cluster-Client-IP',
  ];
  const headers = forged.map((n) => `${n}: forged`).join('\r\n');
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload: `POST /public HTTP/1.1\r\nHost: localhost\r\n${headers}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`,
  });
  t.match(result.received, /^HTTP\/1\.1 200 /);
  const got = upstream.received[0]!;
  for (const name of forged) t.same(rawHeaderValues(got, name.replace(/_/g, '-')), [], `${name} stripped`);
  t.notMatch(JSON.stringify(got.rawHeaders), /forged/);

  // curl sends `Expect: 100-continue` for bodies over 1 MiB on HTTP/1.1.
  const file = join(pki.dir, 'upload.bin');
  writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 7));
  const { stdout } = await run('curl', [
    '-sS',
    '--http1.1',
    '--cacert',
    pki.ca.cert,
    '--cert',
    pki.client.cert,
    '--key',
    pki.client.key,
    '--resolve',
    `localhost:${proxy.port}:127.0.0.1`,
    '--data-binary',
    `@${file}`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `https://localhost:${proxy.port}/upload`,
  ]);
  t.equal(stdout, '200', 'upload with Expect: 100-continue is forwarded');
  t.equal(upstream.received.at(-1)!.body.length, 2 * 1024 * 1024);
  t.same(rawHeaderValues(upstream.received.at(-1)!, 'expect'), []);
});
