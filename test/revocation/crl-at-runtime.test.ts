// A CRL revoking a connected caller appears at run time: new connections are refused (reason revoked), the open
// keep-alive connection gets 403 on its next request, and an old TLS session ticket does not get a request through.
import { copyFileSync, renameSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { makeCrl } from '../helpers/pki.js';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';

const REQUEST = 'GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** One request on a fresh TLS connection, optionally resuming `session`; reports the session state and reply. */
function tlsRequest(o: {
  port: number;
  ca: string;
  cert: string;
  key: string;
  session?: Buffer;
  version: tls.SecureVersion;
}): Promise<{
  reused: boolean;
  received: string;
  session?: Buffer;
}> {
  return new Promise((resolve) => {
    let received = '';
    let session: Buffer | undefined;
    let reused = false;
    const socket = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      session: o.session,
      minVersion: o.version,
      maxVersion: o.version,
    });
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write(REQUEST);
    });
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      // One response is enough; give a TLS 1.3 ticket a moment to arrive, then hang up.
      if (/\r\n0\r\n\r\n$|"bodyLength":\d+\}$/.test(received)) setTimeout(() => socket.end(), 50);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reused, received, session });
    });
  });
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  t.test(`CRL appears at run time (${version})`, async (t) => {
    const pki = makeTestPki();
    const upstream = await startRecordingUpstream();
    const crlPath = join(pki.dir, 'current.crl.pem');
    copyFileSync(makeCrl(pki.dir, pki.ca, []), crlPath);
    const proxy = await startTestProxy(baseConfig(pki, upstream.url, { crl: [crlPath], reloadIntervalMs: 150 }));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, maxVersion: version, minVersion: version });
    t.teardown(async () => {
      agent.destroy();
      await proxy.close(100);
      await upstream.close();
      pki.cleanup();
    });
    const caller = { port: proxy.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };

    // Before: admitted on a keep-alive connection, and a session ticket that really resumes.
    const first = await httpsRequest({ ...caller, path: '/orders', agent });
    t.equal(first.status, 200);
    const ticketed = await tlsRequest({ ...caller, version });
    t.match(ticketed.received, /^HTTP\/1\.1 200/);
    t.ok(ticketed.session, 'the server issued a session ticket');
    const resumedBefore = await tlsRequest({ ...caller, version, session: ticketed.session });
    t.equal(resumedBefore.reused, true, 'the ticket resumes a session while the caller is still valid');
    t.match(resumedBefore.received, /^HTTP\/1\.1 200/);

    // Revoke: an atomic replace of the CRL file, picked up by the reload interval.
    const reloadsBefore = await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' });
    const staged = join(pki.dir, 'staged.crl.pem');
    copyFileSync(makeCrl(pki.dir, pki.ca, [pki.client]), staged);
    renameSync(staged, crlPath);
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      (await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' })) === reloadsBefore
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    t.equal(
      await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' }),
      reloadsBefore + 1,
      'one successful reload',
    );
    const seenBefore = upstream.received.length;

    // The open keep-alive connection: 403 on its next request, on the same socket.
    const reused = await new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.port,
          servername: 'localhost',
          path: '/orders',
          agent,
          ca: caller.ca,
          cert: caller.cert,
          key: caller.key,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reusedSocket: req.reusedSocket }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    t.equal(reused.reusedSocket, true, 'the request went over the already open connection');
    t.equal(reused.status, 403);

    // A new connection: refused right after the handshake, counted as revoked.
    const revokedBefore = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' });
    await t.rejects(httpsRequest({ ...caller, path: '/orders' }), 'a new connection is refused');
    t.equal(
      await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' }),
      revokedBefore + 1,
    );

    // The old ticket: either not resumed, or resumed and still refused; never a response, never forwarded.
    const resumedAfter = await tlsRequest({ ...caller, version, session: ticketed.session });
    t.equal(resumedAfter.received, '', 'no HTTP response with the old ticket');
    t.equal(resumedAfter.reused, false, 'the rotated ticket keys refuse the old session');
    t.equal(upstream.received.length, seenBefore, 'the upstream saw nothing after the revocation');
  });
}
