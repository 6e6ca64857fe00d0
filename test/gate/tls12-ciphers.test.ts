// TLS 1.2 offers only ECDHE with AES-GCM or ChaCha20-Poly1305: static-RSA and CBC suites are refused (openssl s_client
// and curl as clients).
import { runCollect } from '../helpers/run-collect.js';
import t from 'tap';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { baseConfig, startRecordingUpstream, startTestProxy } from '../helpers/gate-harness.js';

const run = async (cmd: string, args: string[], input: string): Promise<string> =>
  (await runCollect(cmd, args, input)).out;

t.test('TLS 1.2 cipher suites', async (t) => {
  const dir = makeTmpDir('mtls-ciphers-');
  const root = makeCa(dir, 'Ciphers Root CA');
  // An RSA server key: with it, static-RSA key exchange would be possible if offered.
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
    keyType: 'rsa',
  });
  const client = makeLeaf(dir, 'client', root, { san: ['URI:spiffe://example.org/ns/prod/sa/c'] });
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig({ dir, ca: root, server, client, cleanup: () => removeDir(dir) }, upstream.url),
  );
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    removeDir(dir);
  });
  const request = 'GET /c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
  const sClient = (cipher: string) =>
    run(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${proxy.port}`,
        '-servername',
        'localhost',
        '-tls1_2',
        '-cipher',
        cipher,
        '-ign_eof',
        '-CAfile',
        root.cert,
        '-cert',
        client.cert,
        '-key',
        client.key,
      ],
      request,
    );

  for (const cipher of [
    'AES128-SHA',
    'AES256-GCM-SHA384',
    'ECDHE-RSA-AES128-SHA',
    'ECDHE-RSA-AES256-SHA384',
    'DHE-RSA-AES128-GCM-SHA256',
  ]) {
    const out = await sClient(cipher);
    t.notMatch(out, /HTTP\/1\.1 200/, `${cipher}: no response`);
    t.match(out, /alert handshake failure|no cipher/, `${cipher}: refused in the handshake`);
  }
  for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    t.match(await sClient(cipher), /HTTP\/1\.1 200/, `${cipher}: 200`);
  }
  const curl = await run(
    'curl',
    [
      '-sS',
      '--tls-max',
      '1.2',
      '--ciphers',
      'AES128-SHA',
      '--cacert',
      root.cert,
      '--cert',
      client.cert,
      '--key',
      client.key,
      '--resolve',
      `localhost:${proxy.port}:127.0.0.1`,
      `https://localhost:${proxy.port}/c`,
    ],
    '',
  );
  t.match(curl, /curl: \(35\)/, `curl --tls-max 1.2 --ciphers AES128-SHA is refused (${curl.trim()})`);
  t.equal(
    upstream.received.filter((r) => r.url === '/c').length,
    3,
    'only the three ECDHE + AEAD connections reached the upstream',
  );
});
