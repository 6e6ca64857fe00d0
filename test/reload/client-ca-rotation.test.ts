// Replacing the client CA bundle at run time: callers of the removed CA get 403 on their open connection and are
// refused on new ones (unknown_ca), their old session ticket does not resume, and callers of the new CA get in.
import { copyFileSync, renameSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { makeCa, makeLeaf } from '../helpers/pki.js';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

function sessionOf(o: {
  port: number;
  ca: string;
  cert: string;
  key: string;
}): Promise<{ session?: Buffer; reused: boolean; received: string }> {
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    let reused = false;
    let received = '';
    const s = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      session: undefined,
    });
    s.on('session', (b: Buffer) => (session = b));
    s.on('secureConnect', () => {
      reused = s.isSessionReused();
      s.write('GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    s.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      setTimeout(() => s.end(), 50);
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve({ session, reused, received }));
  });
}

function resume(
  o: { port: number; ca: string; cert: string; key: string },
  session: Buffer,
): Promise<{ reused: boolean; received: string }> {
  return new Promise((resolve) => {
    let reused = false;
    let received = '';
    const s = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      session,
    });
    const timer = setTimeout(() => s.destroy(), 2000);
    s.on('secureConnect', () => {
      reused = s.isSessionReused();
      s.write('GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    s.on('data', (c: Buffer) => (received += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => (clearTimeout(timer), resolve({ reused, received })));
  });
}

t.test('client CA rotation', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const caPath = join(pki.dir, 'client-ca.pem');
  copyFileSync(pki.ca.cert, caPath);
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { clientCa: [caPath], reloadIntervalMs: 60_000 }));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(async () => {
    agent.destroy();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const oldCaller = { port: proxy.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
  t.equal((await httpsRequest({ ...oldCaller, path: '/orders', agent })).status, 200);
  const ticket = await sessionOf(oldCaller);
  t.match(ticket.received, /^HTTP\/1\.1 200/);
  t.ok(ticket.session);

  const newCa = makeCa(pki.dir, 'New Client CA');
  const newClient = makeLeaf(pki.dir, 'new-orders', newCa, { san: ['URI:spiffe://example.org/ns/prod/sa/orders'] });
  copyFileSync(newCa.cert, join(pki.dir, 'staged.pem'));
  renameSync(join(pki.dir, 'staged.pem'), caPath);
  t.equal(proxy.reload('signal'), 'success');
  const seen = upstream.received.length;

  const onOpen = await httpsRequest({ ...oldCaller, path: '/orders', agent });
  t.equal(onOpen.status, 403, 'the open connection of a caller whose CA was removed gets 403');
  const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'unknown_ca' });
  await t.rejects(httpsRequest({ ...oldCaller, path: '/orders' }), 'a new connection with the old CA is refused');
  t.equal(await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'unknown_ca' }), before + 1);
  const resumed = await resume(oldCaller, ticket.session as Buffer);
  t.equal(resumed.reused, false, 'the old ticket does not resume');
  t.equal(resumed.received, '');
  t.equal(upstream.received.length, seen, 'nothing from the old CA reached the upstream');

  const fresh = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: newClient.certPem,
    key: newClient.keyPem,
    path: '/orders',
  });
  t.equal(fresh.status, 200, 'a caller of the new CA is admitted');
});
