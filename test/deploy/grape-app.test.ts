// The example Grape API authorizes each route by the sidecar's identity headers and listens on loopback only.
// Called directly here (no sidecar), which also shows why it must never be reachable except through the sidecar.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { findGrapeMissing, getJson, startGrape, type GrapeServer } from './lib/grape-server.js';
import { pickFreePort } from './lib/net-wait.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const missing = findGrapeMissing();

/** Local addresses of LISTEN sockets on `port`, read from the kernel rather than from puma's own log. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, p] = (cols[1] ?? '').split(':');
      if (p === hexPort && cols[3] === '0A' && addr) out.push(addr);
    }
  }
  return out;
}

t.test('the example API', { skip: missing ?? false }, async (t) => {
  const grape: GrapeServer = await startGrape(await pickFreePort());
  t.teardown(grape.stop);
  const id = (extra: Record<string, string>): Record<string, string> => ({
    'X-Client-Fingerprint-SHA256': 'ab'.repeat(32),
    ...extra,
  });

  t.test('listens on 127.0.0.1 only', async (t) => {
    // 0100007F is 127.0.0.1 in /proc/net/tcp's little-endian hex.
    t.same(listeningAddresses(grape.port), ['0100007F']);
  });

  t.test('refuses a request that carries no identity at all', async (t) => {
    t.same(await getJson(grape.port, '/orders'), { status: 401, body: { error: 'unauthenticated' } });
  });

  t.test('lets the orders SPIFFE ID call /orders and echoes what it saw', async (t) => {
    const r = await getJson(grape.port, '/orders', id({ 'X-Client-URI': ORDERS }));
    t.equal(r.status, 200);
    t.match(r.body, { identity: { uri: ORDERS }, client_env: { HTTP_X_CLIENT_URI: ORDERS } });
  });

  t.test('refuses other identities on /orders with a bare 403', async (t) => {
    for (const uri of [
      'spiffe://example.org/ns/prod/sa/billing',
      `spiffe://evil.example/x,${ORDERS}`,
      `${ORDERS}/`,
      '',
    ]) {
      t.same(
        await getJson(grape.port, '/orders', id({ 'X-Client-URI': uri })),
        { status: 403, body: { error: 'forbidden' } },
        uri,
      );
    }
  });

  t.test('authorizes /reports by subject', async (t) => {
    t.equal(
      (await getJson(grape.port, '/reports', id({ 'X-Client-Subject': 'CN=auditor,O=Example Org' }))).status,
      200,
    );
    t.equal(
      (await getJson(grape.port, '/reports', id({ 'X-Client-Subject': 'CN=auditor,O=Example Org,OU=x' }))).status,
      403,
    );
  });

  // The danger the sidecar exists to remove: Rack folds `X_Client_URI` into the same key as `X-Client-URI`.
  t.test('an underscore header sent straight to the API lands in HTTP_X_CLIENT_URI', async (t) => {
    const r = await getJson(grape.port, '/orders', id({ X_Client_URI: ORDERS }));
    t.equal(r.status, 200, 'so the API must be reachable only through the sidecar');
    t.match(r.body, { client_env: { HTTP_X_CLIENT_URI: ORDERS } });
  });
});
