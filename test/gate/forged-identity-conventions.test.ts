// Other proxies' client-certificate and authenticated-user headers, and the operator's own --strip-header names, never
// reach the upstream in any spelling (any case, `_` for `-`, repeated); the upstream's raw header list is the oracle.
import t from 'tap';
import { normalizeHeaderName } from '../../src/http/header-sanitize.js';
import {
  baseConfig,
  makeTestPki,
  rawHeaderValues,
  rawTlsExchange,
  startGateStack,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { startH2cOnlyUpstream } from '../protocols/lib/h2c-upstream.js';
import { startWsUpstream } from '../protocols/lib/ws-upstream.js';

const CONVENTIONS = [
  'X-SSL-Client-Verify',
  'X-SSL-Client-S-DN',
  'X-SSL-Client-DN',
  'SSL-Client-Verify',
  'X-ARR-ClientCert',
  'X-Amzn-Mtls-Clientcert',
  'Remote-User',
  'X-Remote-User',
  'X-Forwarded-User',
  'X-Auth-Request-User',
  'X-Client-Verify',
  'X-Client-DN',
  'X-Spiffe-Id',
  'X-Forwarded-Client-Cert-Chain',
  // Siblings of the same conventions.
  'X-SSL-Client-I-DN',
  'X-Amzn-Mtls-Clientcert-Leaf',
  'X-Auth-Request-Email',
  'X-Forwarded-Groups',
];
const OPERATOR_NAMES = ['X-Tenant-Id', 'X-Internal-Role'];

/** The spellings a framework may fold into one name: as written, lower, upper, underscores, mixed. */
function spellings(name: string): string[] {
  const underscored = name.replaceAll('-', '_');
  return [name, name.toLowerCase(), name.toUpperCase(), underscored, underscored.toLowerCase()];
}

const FORBIDDEN = new Set([...CONVENTIONS, ...OPERATOR_NAMES].map(normalizeHeaderName));
const STRIP = new Set(OPERATOR_NAMES.map(normalizeHeaderName));

/** The forged header lines: every name in every spelling, plus a plain duplicate. */
function forgedLines(): string {
  const lines: string[] = [];
  for (const name of [...CONVENTIONS, ...OPERATOR_NAMES]) {
    spellings(name).forEach((spelling, i) => lines.push(`${spelling}: forged-${i}`));
    lines.push(`${name}: forged-again`);
  }
  return lines.join('\r\n');
}

/** Header names of a raw list that normalize to a forbidden one. */
function leakedNames(rawHeaders: string[]): string[] {
  return rawHeaders.filter((name, i) => i % 2 === 0 && FORBIDDEN.has(normalizeHeaderName(name)));
}

t.test('identity conventions and --strip-header names are removed in every spelling', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t, { stripHeaders: STRIP });

  const payload = `GET /ok HTTP/1.1\r\nHost: localhost\r\n${forgedLines()}\r\nX-Kept: yes\r\nX-Tenant: not-listed\r\nContent-Length: 0\r\n\r\n`;
  const result = await rawTlsExchange({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    payload,
    timeoutMs: 3000,
  });
  t.match(result.received, /^HTTP\/1\.1 200 /, 'request answered');
  t.equal(upstream.received.length, 1, 'forwarded once');
  const got = upstream.received[0]!;
  const leaked = leakedNames(got.rawHeaders);
  t.same(leaked, [], 'none of the names reached the upstream');
  t.notMatch(got.rawHeaders.join('\n'), /forged/, 'no forged value reached the upstream under any name');
  t.same(rawHeaderValues(got, 'x-kept'), ['yes'], 'other headers pass');
  t.same(rawHeaderValues(got, 'x-tenant'), ['not-listed'], 'a name that only starts like a stripped one passes');
});

t.test('the same names are removed on the HTTP/2 upstream path and from a WebSocket handshake', async (t) => {
  const pki = makeTestPki();
  const h2 = await startH2cOnlyUpstream();
  const ws = await startWsUpstream();
  const viaH2 = await startTestProxy(baseConfig(pki, h2.url, { stripHeaders: STRIP, upstreamProtocol: 'h2' }));
  const viaWs = await startTestProxy(baseConfig(pki, ws.url, { stripHeaders: STRIP }));
  t.teardown(async () => {
    await viaH2.close(100);
    await viaWs.close(100);
    await h2.close();
    await ws.close();
    pki.cleanup();
  });
  const client = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem, timeoutMs: 3000 };
  const plain = await rawTlsExchange({
    ...client,
    port: viaH2.port,
    payload: `GET /ok HTTP/1.1\r\nHost: localhost\r\n${forgedLines()}\r\nConnection: close\r\n\r\n`,
  });
  t.match(plain.received, /^HTTP\/1\.1 200 /);
  t.equal(h2.seen.length, 1, 'forwarded over HTTP/2');
  t.same(leakedNames(h2.seen[0]!.rawHeaders), [], 'none reached the HTTP/2 upstream');
  t.notMatch(h2.seen[0]!.rawHeaders.join('\n'), /forged/);

  const handshake = await rawTlsExchange({
    ...client,
    port: viaWs.port,
    payload: `GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${forgedLines()}\r\n\r\n`,
  });
  t.match(handshake.received, /^HTTP\/1\.1 101 /);
  t.equal(ws.upgrades.length, 1, 'the handshake reached the upstream');
  t.same(leakedNames(ws.upgrades[0]!.rawHeaders), [], 'none reached the WebSocket upstream');
  t.notMatch(ws.upgrades[0]!.rawHeaders.join('\n'), /forged/);
});
