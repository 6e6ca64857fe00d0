// SIGTERM during a slow upstream request: /readyz turns 503 at once, new connections are refused, the request
// completes with 200, an idle keep-alive connection is closed, /metrics stays up, and the process exits 0.
import https from 'node:https';
import net from 'node:net';
import t from 'tap';
import { makeTestPki, startRecordingUpstream, httpsRequest } from '../helpers/gate-harness.js';
import { cliMissing, proxyArgs, opsGet, startCli, waitFor } from './lib/cli-process.js';

const SLOW_MS = 1500;

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (err: Error & { code?: string }) => resolve(err.code === 'ECONNREFUSED'));
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} drains`, { skip: cliMissing() }, async (t) => {
    const pki = makeTestPki();
    const upstream = await startRecordingUpstream();
    upstream.handler = (req, res) => {
      const delay = req.url.startsWith('/slow') ? SLOW_MS : 0;
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`), delay);
    };
    const cli = await startCli([
      ...proxyArgs(pki, upstream.url),
      '--allow-uri',
      'spiffe://example.org/ns/prod/*',
      '--shutdown-grace',
      '8s',
    ]);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const slowAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(async () => {
      agent.destroy();
      slowAgent.destroy();
      await cli.stop();
      await upstream.close();
      pki.cleanup();
    });
    const caller = { port: cli.port, ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
    t.ok(
      await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 200, 5000),
      'ready before the signal',
    );

    // An idle keep-alive connection, watched for its close.
    let idleClosed = false;
    await new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: cli.port,
          servername: 'localhost',
          path: '/quick',
          agent,
          ca: caller.ca,
          cert: caller.cert,
          key: caller.key,
        },
        (res) => {
          res.socket.once('close', () => (idleClosed = true));
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end();
    });

    // Keep-alive too: after its response the connection turns idle mid-drain and must be closed, not left
    // open until --idle-timeout.
    const slow = httpsRequest({ ...caller, path: '/slow', agent: slowAgent });
    t.ok(
      await waitFor(() => upstream.received.some((r) => r.url === '/slow'), 5000),
      'the slow request reached the upstream',
    );
    const signalledAt = Date.now();
    cli.child.kill(signal);

    t.ok(
      await waitFor(async () => (await opsGet(cli.metricsPort, '/readyz')).status === 503, 500, 10),
      '/readyz 503 at once',
    );
    t.match((await opsGet(cli.metricsPort, '/readyz')).body, /draining/);
    t.ok(await waitFor(() => connectRefused(cli.port), 1000, 20), 'new connections are refused');
    t.equal((await opsGet(cli.metricsPort, '/metrics')).status, 200, '/metrics still answers while draining');
    t.equal((await opsGet(cli.metricsPort, '/healthz')).status, 200, '/healthz still answers while draining');

    const answer = await slow;
    t.equal(answer.status, 200, 'the in-flight request completed');
    t.equal(answer.body, 'done /slow');
    t.ok(await waitFor(() => idleClosed, 3000), 'the idle keep-alive connection was closed');
    const answeredAt = Date.now();
    const code = await cli.exited;
    t.equal(code, 0, 'exit 0');
    t.ok(
      Date.now() - answeredAt < 2000,
      `exited promptly once the last request was answered (${Date.now() - answeredAt} ms)`,
    );
    t.ok(Date.now() - signalledAt < 8000, 'within --shutdown-grace');
    const msgs = cli.lines().map((l) => l.msg);
    t.ok(msgs.includes('shutting down') && msgs.includes('drained') && msgs.includes('stopped'), 'shutdown is logged');
  });
}

t.test('connections still open at the deadline are cut; the exit is still 0', { skip: cliMissing() }, async (t) => {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  upstream.handler = (_req, res) => setTimeout(() => res.writeHead(200).end('late'), 5000);
  const cli = await startCli([
    ...proxyArgs(pki, upstream.url),
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--shutdown-grace',
    '500ms',
  ]);
  t.teardown(async () => {
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  const slow = httpsRequest({
    port: cli.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/slow',
  }).then(
    (r) => r.status,
    () => 'cut',
  );
  t.ok(await waitFor(() => upstream.received.length === 1, 5000));
  const at = Date.now();
  cli.child.kill('SIGTERM');
  t.equal(await slow, 'cut', 'the request that outlived the grace period was cut');
  t.equal(await cli.exited, 0);
  t.ok(Date.now() - at < 3000, 'exited soon after the deadline');
  t.ok(
    cli.lines().some((l) => l.msg === 'shutdown grace over: closing the connections still open'),
    'the cut is logged',
  );
});
