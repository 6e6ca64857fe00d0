// A name with a space at its start or end reaches the upstream intact over HTTP/1.1 and HTTP/2: the space is `\20`,
// since HTTP strips whitespace at the edges of a field value (RFC 9110 §5.5) and HTTP/2 refuses it (RFC 9113 §8.2.1).
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { parseDistinguishedName } from '../../src/authz/parse-dn.js';
import {
  baseConfig,
  httpsRequest,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
} from '../helpers/gate-harness.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

const dir = makeTmpDir('mtls-edge-space-');
t.teardown(() => removeDir(dir));
const ca = makeCa(dir, 'ca', { subject: '/CN=Edge CA' });
const server = makeLeaf(dir, 'server', ca, {
  subject: '/CN=localhost',
  san: ['DNS:localhost', 'IP:127.0.0.1'],
  eku: 'serverAuth',
});
const client = makeLeaf(dir, 'spaced', ca, { subject: '/O= Acme /CN= admin ' });
const pki: TestPki = { dir, ca, server, client, cleanup: () => undefined };
const allow = {
  cn: [] as string[],
  ou: [],
  o: [],
  dns: [],
  uri: [],
  email: [],
  serial: [],
  fingerprint: [],
  subject: [],
};

/** An h2c upstream that records the headers of each request as the Node HTTP/2 server parsed them. */
async function startH2cUpstream(): Promise<{ url: string; seen: http2.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// Not trim(): the value ends with the escaped space openssl writes as a backslash and a space.
const opensslSubject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', client.cert])
  .replace(/\n$/, '')
  .replace(/^subject=/, '');

t.test('the certificate really has edge spaces (openssl writes them "\\ ")', async (t) => {
  t.equal(opensslSubject, 'CN=\\ admin\\ ,O=\\ Acme\\ ', opensslSubject);
});

function checkHeaders(t: Test, headers: Record<string, string | string[] | undefined>): void {
  t.equal(headers['x-client-cn'], '\\20admin\\20', 'X-Client-CN arrives whole');
  t.equal(headers['x-client-subject'], 'CN=\\20admin\\20,O=\\20Acme\\20', 'X-Client-Subject arrives whole');
  const parsed = parseDistinguishedName(String(headers['x-client-subject']));
  t.same(
    parsed,
    [[{ oid: '2.5.4.3', value: ' admin ' }], [{ oid: '2.5.4.10', value: ' Acme ' }]],
    'an RFC 4514 parser reads the spaces back',
  );
}

t.test('HTTP/1.1 upstream (Node)', async (t) => {
  const upstream = await startRecordingUpstream();
  const policy = { ...allow, cn: [] as string[], subject: ['CN=\\20admin\\20,O=\\20Acme\\20'] };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: policy }));
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
  });
  const res = await httpsRequest({ port: proxy.port, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
  t.equal(res.status, 200);
  const seen = upstream.received.at(-1);
  t.ok(seen, 'the upstream got the request');
  if (seen) checkHeaders(t, seen.headers);
});

t.test('HTTP/2 upstream (h2c, Node)', async (t) => {
  const upstream = await startH2cUpstream();
  const policy = { ...allow, cn: [] as string[], subject: ['CN=\\ admin\\ ,O=\\ Acme\\ '] };
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { upstreamProtocol: 'h2', allow: policy }));
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
  });
  const res = await httpsRequest({ port: proxy.port, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
  t.equal(res.status, 200, 'the request is not refused for a bad field value');
  const seen = upstream.seen.at(-1);
  t.ok(seen, 'the upstream got the request');
  if (seen) checkHeaders(t, seen);
});
