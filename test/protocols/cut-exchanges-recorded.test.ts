// Every forwarding kind records a cut exchange like the HTTP/1.1 path does (README "Logs"): 499 when the caller went
// away before the exchange ended (the upstream request is dropped, no upstream error counted), 502 with the failure as
// `reason` when the upstream broke off after its head was relayed. Read from the built CLI's stdout and its /metrics
// text.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { makeTestPki, type TestPki } from '../helpers/gate-harness.js';
import { frameOrderRequest, startRawH2cUpstream, type RawUpstream } from '../grpc/lib/raw-h2.js';
import {
  cliMissing,
  opsGet,
  sampleValue,
  startCli,
  waitFor,
  type CliProcess,
  type LogLine,
} from '../ops/lib/cli-process.js';

const accessOf = (cli: CliProcess, id: string): LogLine[] =>
  cli.lines().filter((l) => l.msg === 'access' && l.requestId === id);

async function metric(cli: CliProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue((await opsGet(cli.metricsPort, '/metrics')).body, name, labels);
}

async function upstreamErrors(cli: CliProcess): Promise<number> {
  let sum = 0;
  for (const reason of ['timeout', 'refused', 'reset', 'tls', 'other'])
    sum += await metric(cli, 'mtls_sidecar_upstream_errors_total', { reason });
  return sum;
}

function startProxy(pki: TestPki, upstreamUrl: string, extra: string[] = []): Promise<CliProcess> {
  return startCli([
    '--upstream',
    upstreamUrl,
    '--cert',
    pki.server.cert,
    '--key',
    pki.server.key,
    '--client-ca',
    pki.ca.cert,
    '--allow-uri',
    'spiffe://example.org/ns/prod/*',
    '--log-level',
    'info',
    ...extra,
  ]);
}

/** The built proxy in front of `upstream`, and an HTTP/2 caller connected to it; all torn down with the test. */
async function startH2Caller(
  t: { teardown(fn: () => unknown): void },
  pki: TestPki,
  upstream: RawUpstream,
  extra: string[] = [],
) {
  const cli = await startProxy(pki, upstream.url, extra);
  const session = http2.connect(`https://localhost:${cli.port}`, {
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
  });
  session.on('error', () => undefined);
  t.teardown(async () => {
    session.destroy();
    await cli.stop();
    await upstream.close();
    pki.cleanup();
  });
  return { cli, session };
}

t.test(
  'gRPC: a caller that cancels mid-call is recorded 499 (CANCELLED), not an upstream error',
  { skip: cliMissing() },
  async (t) => {
    const pki = makeTestPki();
    // Answers the head and a first message, then never ends: only the caller can end the call.
    const upstream = await startRawH2cUpstream((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(frameOrderRequest('first'));
    });
    const { cli, session } = await startH2Caller(t, pki, upstream);
    const call = session.request({
      ':method': 'POST',
      ':path': '/shop.v1.Orders/WatchOrders',
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-request-id': 'grpc-cancel',
    });
    call.on('error', () => undefined);
    call.write(frameOrderRequest('x'));
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.close(http2.constants.NGHTTP2_CANCEL);

    t.ok(await waitFor(() => upstream.streams[0]?.closedWith !== undefined, 15_000), 'the upstream stream was ended');
    t.equal(upstream.streams[0]?.closedWith, http2.constants.NGHTTP2_CANCEL, 'with CANCEL');
    t.ok(await waitFor(() => accessOf(cli, 'grpc-cancel').length > 0, 15_000), 'the call has its access line');
    t.match(
      accessOf(cli, 'grpc-cancel'),
      [{ status: 499, grpcStatus: 1, decision: 'allow', path: '/shop.v1.Orders/WatchOrders' }],
      'once, as 499 CANCELLED',
    );
    t.notOk('reason' in (accessOf(cli, 'grpc-cancel')[0] ?? {}), 'no upstream failure reason');
    t.equal(
      await metric(cli, 'mtls_sidecar_requests_total', { method: 'POST', code: '499' }),
      1,
      'requests_total{code="499"}',
    );
    t.equal(
      await metric(cli, 'mtls_sidecar_grpc_calls_total', { grpc_code: 'CANCELLED' }),
      1,
      'grpc_calls_total{CANCELLED}',
    );
    t.equal(await upstreamErrors(cli), 0, 'not counted as an upstream error');
  },
);

t.test(
  'WebSocket: a caller gone before the upstream answered its handshake is recorded 499',
  { skip: cliMissing() },
  async (t) => {
    const pki = makeTestPki();
    // Reads the handshake and never answers it.
    let received = '';
    let upstreamClosed = false;
    const silent = net.createServer((socket) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => (upstreamClosed = true));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cli = await startProxy(pki, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    t.teardown(async () => {
      await cli.stop();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      pki.cleanup();
    });
    const caller = tls.connect({
      port: cli.port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      ALPNProtocols: ['http/1.1'],
    });
    caller.on('error', () => undefined);
    await new Promise<void>((resolve) => caller.once('secureConnect', () => resolve()));
    caller.write(
      'GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: ws-gone\r\n\r\n',
    );
    t.ok(await waitFor(() => received.includes('\r\n\r\n'), 15_000), 'the handshake reached the upstream');
    caller.destroy();

    t.ok(await waitFor(() => upstreamClosed, 15_000), 'the upstream request was dropped');
    t.ok(await waitFor(() => accessOf(cli, 'ws-gone').length > 0, 15_000), 'the handshake has its access line');
    t.match(accessOf(cli, 'ws-gone'), [{ status: 499, decision: 'allow', path: '/chat' }], 'once, as 499');
    t.notOk('reason' in (accessOf(cli, 'ws-gone')[0] ?? {}), 'no upstream failure reason');
    t.equal(
      await metric(cli, 'mtls_sidecar_requests_total', { method: 'GET', code: '499' }),
      1,
      'requests_total{code="499"}',
    );
    t.equal(await upstreamErrors(cli), 0, 'not counted as an upstream error');
  },
);

t.test(
  '--upstream-protocol h2: caller gone is 499; an upstream that breaks off mid-body is 502 reset and a cut',
  { skip: cliMissing() },
  async (t) => {
    const pki = makeTestPki();
    const upstream = await startRawH2cUpstream((stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      // /break: the upstream resets its stream (RST_STREAM INTERNAL_ERROR, no END_STREAM) after part of the body;
      // /hang: it never ends. (stream.close() would end the body cleanly before its RST_STREAM.)
      stream.write('partial ', () => {
        if (headers[':path'] === '/break') setTimeout(() => stream.destroy(new Error('upstream broke off')), 100);
      });
    });
    const { cli, session } = await startH2Caller(t, pki, upstream, ['--upstream-protocol', 'h2']);

    const hang = session.request({ ':path': '/hang', 'x-request-id': 'h2-gone' });
    hang.on('error', () => undefined);
    await new Promise<void>((resolve) => hang.once('data', () => resolve()));
    hang.close(http2.constants.NGHTTP2_CANCEL);
    t.ok(
      await waitFor(
        () => upstream.streams.find((s) => s.path === '/hang')?.closedWith === http2.constants.NGHTTP2_CANCEL,
        15_000,
      ),
      'the upstream stream was cancelled',
    );
    t.ok(await waitFor(() => accessOf(cli, 'h2-gone').length > 0, 15_000), 'the exchange has its access line');
    t.match(accessOf(cli, 'h2-gone'), [{ status: 499, decision: 'allow', path: '/hang' }], 'once, as 499');
    t.equal(await upstreamErrors(cli), 0, 'not counted as an upstream error');

    const broken = session.request({ ':path': '/break', 'x-request-id': 'h2-break' });
    let body = '';
    broken.on('data', (chunk: Buffer) => (body += chunk.toString()));
    broken.on('error', () => undefined);
    const rst = await new Promise<number>((resolve) => broken.once('close', () => resolve(broken.rstCode ?? -1)));
    t.equal(body, 'partial ', 'the part sent before the break');
    t.equal(rst, http2.constants.NGHTTP2_INTERNAL_ERROR, 'the caller sees a reset, never a normal end');
    t.ok(await waitFor(() => accessOf(cli, 'h2-break').length > 0, 15_000), 'the exchange has its access line');
    t.match(
      accessOf(cli, 'h2-break'),
      [{ status: 502, reason: 'reset', decision: 'allow', path: '/break' }],
      'once, as 502 reset',
    );
    t.equal(
      await metric(cli, 'mtls_sidecar_upstream_errors_total', { reason: 'reset' }),
      1,
      'upstream_errors_total{reason="reset"}',
    );
  },
);
