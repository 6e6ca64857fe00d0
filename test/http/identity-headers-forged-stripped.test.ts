// A caller can never forge, remove or append to the identity and forwarding headers, in any spelling.
import t from 'tap';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Identity } from '../../src/identity/types.js';
import { buildIdentityHeaders, composeUpstreamHeaders } from '../../src/http/identity-headers.js';

const SUBJECT = 'CN=orders,OU=payments,O=Acme';
const URI = 'spiffe://example.org/ns/prod/sa/orders';
const FP = '0123456789abcdef'.repeat(4);

const identity: Identity = {
  subject: SUBJECT,
  subjectRdns: [],
  issuer: 'CN=ca',
  issuerRdns: [],
  commonNames: ['orders'],
  orgUnits: ['payments'],
  orgs: ['Acme'],
  cnEscaped: 'orders',
  dns: ['orders.example'],
  uris: [URI],
  ignoredUris: [],
  emails: [],
  ips: [],
  serial: '1A2B',
  fingerprint256: FP,
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2027-01-01T00:00:00Z'),
  extKeyUsage: ['clientAuth'],
  der: Buffer.from('3000', 'hex'),
};

const REAL: Record<string, string> = {
  'x-client-subject': SUBJECT,
  'x-client-cn': 'orders',
  'x-client-serial': '1A2B',
  'x-client-fingerprint-sha256': FP,
  'x-client-uri': URI,
  'x-client-dns': 'orders.example',
  'x-client-not-after': '2027-01-01T00:00:00Z',
  'x-forwarded-client-cert': `Hash=${FP};Subject="${SUBJECT}";URI=${URI};DNS=orders.example`,
  'x-forwarded-for': '192.0.2.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'api.example:8443',
  'x-request-id': 'req-1',
};
const FACTS = { remoteAddress: '192.0.2.7', host: 'api.example:8443', requestId: 'req-1' };

/** Every header whose normalized name is `name`, with its values, from an outgoing header object. */
function valuesOf(out: Record<string, string | string[]>, name: string): string[] {
  const found: string[] = [];
  for (const [k, v] of Object.entries(out)) {
    if (k.toLowerCase().replaceAll('_', '-') === name) found.push(...(typeof v === 'string' ? [v] : v));
  }
  return found;
}

/** [found, wanted, message] triples: every real value present exactly once, no stripped name at all. */
function identityChecks(out: Record<string, string | string[]>, what: string): Array<[string[], string[], string]> {
  const checks: Array<[string[], string[], string]> = [];
  for (const [name, value] of Object.entries(REAL)) checks.push([valuesOf(out, name), [value], `${what}: ${name}`]);
  for (const name of [
    'client-cert',
    'client-cert-chain',
    'forwarded',
    'x-real-ip',
    'connection',
    'keep-alive',
    'proxy-connection',
    'proxy-authorization',
  ]) {
    checks.push([valuesOf(out, name), [], `${what}: no ${name}`]);
  }
  return checks;
}

const forgedVariants: Array<[string, IncomingHttpHeaders]> = [
  ['canonical case', { 'X-Client-Subject': 'CN=admin' }],
  ['lower case', { 'x-client-subject': 'CN=admin' }],
  ['underscores', { X_Client_Subject: 'CN=admin' }],
  ['mixed underscores', { x_CLIENT_subject: 'CN=admin', 'x-client_cn': 'admin' }],
  ['duplicates as arrays', { 'x-client-subject': ['CN=admin', 'CN=root'], 'x-client-uri': ['spiffe://evil', URI] }],
  ['every identity name', Object.fromEntries(Object.keys(REAL).map((k) => [k, 'forged']))],
  [
    'RFC 9440 and XFCC',
    {
      'Client-Cert': ':AAAA:',
      'Client-Cert-Chain': ':AAAA:',
      'X-Forwarded-Client-Cert': 'Hash=00;Subject="CN=admin"',
      client_cert: ':BBBB:',
    },
  ],
  [
    'forwarding headers',
    {
      'x-forwarded-for': '10.0.0.1',
      'X-Forwarded-Proto': 'http',
      x_forwarded_host: 'evil',
      forwarded: 'for=10.0.0.1;proto=http',
      'x-real-ip': '10.0.0.1',
    },
  ],
  ['hop-by-hop', { 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', 'proxy-authorization': 'Basic eDp5' }],
  [
    'Connection-listed names',
    {
      connection: 'x-client-cn, X_Client_URI, keep-alive',
      'x-client-cn': 'admin',
      x_client_uri: 'spiffe://evil',
      'keep-alive': 'x',
    },
  ],
  ['Connection names an identity header', { connection: 'x-client-subject, X-Forwarded-Client-Cert, x_request_id' }],
  ['hand-built Connection key', { Connection: 'x-client-subject', 'X-Client-Subject': 'CN=admin' }],
];

t.test('forged identity headers never survive and the real values are present', async (t) => {
  const idHeaders = buildIdentityHeaders(identity, { forwardCert: false });
  for (const [what, incoming] of forgedVariants) {
    const out = composeUpstreamHeaders({ ...incoming, accept: 'text/plain' }, idHeaders, FACTS);
    for (const [found, wanted, message] of identityChecks(out, what)) t.same(found, wanted, message);
    t.equal(out.accept, 'text/plain', `${what}: ordinary headers pass`);
    for (const v of Object.values(out))
      t.notMatch(String(v), /admin|evil|forged|10\.0\.0\.1|AAAA|BBBB/, `${what}: nothing forged`);
  }
});

t.test('X-Forwarded-For from the caller is replaced, never appended to', async (t) => {
  const out = composeUpstreamHeaders({ 'x-forwarded-for': '203.0.113.9, 10.0.0.1' }, [], {
    ...FACTS,
    remoteAddress: '::1',
  });
  t.same(valuesOf(out, 'x-forwarded-for'), ['::1']);
});

t.test('names listed in Connection are dropped, except framing, host and a WebSocket upgrade', async (t) => {
  const out = composeUpstreamHeaders(
    {
      host: 'api.example',
      connection: 'Upgrade, X_Trace, content-length, transfer-encoding, host, te',
      upgrade: 'websocket',
      'x-trace': '1',
      'content-length': '5',
      te: 'trailers',
      'sec-websocket-key': 'k',
    },
    [],
    FACTS,
  );
  t.same(Object.keys(out).sort(), [
    'content-length',
    'host',
    'sec-websocket-key',
    'upgrade',
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-request-id',
  ]);
  const h2c = composeUpstreamHeaders(
    { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' },
    [],
    FACTS,
  );
  t.same(valuesOf(h2c, 'upgrade'), [], 'an h2c upgrade cannot tunnel past the proxy');
  t.same(valuesOf(h2c, 'http2-settings'), []);
  t.same(
    valuesOf(composeUpstreamHeaders({ upgrade: 'websocket' }, [], FACTS), 'upgrade'),
    [],
    'Upgrade without Connection: upgrade is dropped',
  );
  t.same(composeUpstreamHeaders({ te: 'trailers' }, [], FACTS).te, 'trailers');
  t.same(valuesOf(composeUpstreamHeaders({ te: 'gzip, trailers' }, [], FACTS), 'te'), []);
  t.same(
    valuesOf(composeUpstreamHeaders({ ':authority': 'x', ':path': '/' }, [], FACTS), ':path'),
    [],
    'no pseudo-headers',
  );
});

async function listen(
  handler: (req: IncomingMessage, body: (s: string) => void) => void,
): Promise<{ port: number; close: () => void }> {
  const server = createServer((req, res) => handler(req, (s) => res.end(s)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

t.test('over real sockets: Node-parsed forged headers in, only real identity at the upstream', async (t) => {
  const idHeaders = buildIdentityHeaders(identity, { forwardCert: true });
  const upstream = await listen((req, body) => body(JSON.stringify(req.rawHeaders)));
  t.teardown(upstream.close);
  const proxy = await listen((req, body) => {
    const headers = composeUpstreamHeaders(req.headers, idHeaders, { ...FACTS, host: req.headers.host });
    const up = request({ host: '127.0.0.1', port: upstream.port, path: '/', headers }, (res) => {
      let data = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (data += c))
        .on('end', () => body(data));
    });
    up.end();
  });
  t.teardown(proxy.close);

  const raw = [
    'GET / HTTP/1.1',
    'Host: api.example:8443',
    'Connection: x-client-subject, X_Client_URI, keep-alive, x-extra',
    'X-Client-Subject: CN=admin',
    'x_client_subject: CN=admin2',
    'X_CLIENT_SUBJECT: CN=admin3',
    'X-Client-URI: spiffe://evil/1',
    'X-Client-URI: spiffe://evil/2',
    'Client-Cert: :AAAA:',
    'Client-Cert-Chain: :AAAA:',
    'X-Forwarded-Client-Cert: Hash=00;Subject="CN=admin"',
    'X-Forwarded-For: 10.0.0.1',
    'X-Forwarded-For: 10.0.0.2',
    'X-Request-Id: req-1',
    'Keep-Alive: timeout=1',
    'X-Extra: drop-me',
    'Set-Cookie: a=1',
    'Set-Cookie: b=2',
    'Accept: text/plain',
    '',
    '',
  ].join('\r\n');
  const sock = connect(proxy.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  sock.write(raw);
  let text = '';
  const complete = () => {
    const end = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1];
    return end >= 0 && length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length);
  };
  sock.setEncoding('utf8');
  for (let i = 0; i < 100 && !complete(); i++) text += String((await once(sock, 'data'))[0]);
  t.match(text, /^HTTP\/1\.1 200 /);
  const rawHeaders = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as string[];
  const seen: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase().replaceAll('_', '-');
    (seen[name] ??= []).push(rawHeaders[i + 1] ?? '');
  }
  for (const [name, value] of Object.entries(REAL)) {
    t.same(
      seen[name],
      [
        name === 'x-forwarded-client-cert'
          ? value.replace(
              ';Subject',
              ';Cert="-----BEGIN%20CERTIFICATE-----%0AMAA%3D%0A-----END%20CERTIFICATE-----%0A";Subject',
            )
          : value,
      ],
      name,
    );
  }
  t.same(seen['client-cert'], [':MAA=:'], 'Client-Cert is ours');
  t.same(seen['client-cert-chain'], undefined);
  t.same(seen['x-extra'], undefined, 'a Connection-listed header is dropped');
  t.same(seen['keep-alive'], undefined);
  t.same(seen['set-cookie'], ['a=1', 'b=2'], 'array-valued headers pass as they came');
  t.same(seen.accept, ['text/plain']);
});

t.test('two spellings of a kept header are both forwarded, not one lost', async (t) => {
  const out = composeUpstreamHeaders(
    { Accept: 'text/a', accept: ['text/b', 'text/c'] } as unknown as IncomingHttpHeaders,
    [],
    FACTS,
  );
  t.same(out.accept, ['text/a', 'text/b', 'text/c']);
});
