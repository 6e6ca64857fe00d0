// The plain Node HTTP/2 floor: http2.createSecureServer (h2 only, requestCert, rejectUnauthorized), identity read once
// per session, and per stream either undici pool.stream() into the stream (mode http: HTTP/2 in, HTTP/1.1 upstream)
// or one h2c client session to the upstream with the stream, body and trailers relayed as they come (mode grpc).
// Usage: node node-floor-h2.mjs PORT UPSTREAM_PORT CERT KEY CA http|grpc
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { identityOf as readIdentity, withIdentity, without } from './node-floor-forward.mjs';

const [port, upstreamPort, cert, key, ca, mode] = process.argv.slice(2);
const kIdentity = Symbol('identity');
const upstreamHost = `127.0.0.1:${upstreamPort}`;
// Pseudo-headers, connection-specific fields and forgeable identity headers never travel on.
const DROP_REQUEST = new Set([
  ':method',
  ':path',
  ':scheme',
  ':authority',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'x-client-subject',
  'x-client-serial',
  'x-client-fingerprint-sha256',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const DROP_RESPONSE = new Set([
  ':status',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'te',
]);

function identityOf(session) {
  session[kIdentity] ??= readIdentity(session.socket);
  return session[kIdentity];
}

function forwardHeaders(incoming, id) {
  return withIdentity(incoming, DROP_REQUEST, id, incoming[':authority']);
}

function relayable(up) {
  return without(up, DROP_RESPONSE);
}

const pool =
  mode === 'http'
    ? new Pool(`http://${upstreamHost}`, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 })
    : null;

/** Whether the caller's stream can still be answered (h2load resets its streams when its time is up). */
const open = (stream) => !stream.closed && !stream.destroyed;

function fail(stream, status) {
  if (!open(stream)) return;
  try {
    if (!stream.headersSent) stream.respond({ ':status': status });
    stream.end();
  } catch {
    stream.destroy();
  }
}

function forwardHttp(stream, headers, id) {
  const out = forwardHeaders(headers, id);
  out.host = upstreamHost;
  const method = headers[':method'];
  const hasBody = method !== 'GET' && method !== 'HEAD' && !stream.readableEnded;
  pool
    .stream(
      { method, path: headers[':path'], headers: out, body: hasBody ? stream : null },
      ({ statusCode, headers: up }) => {
        // Throwing here makes undici abort the upstream request.
        if (!open(stream)) throw new Error('caller gone');
        stream.respond({ ':status': statusCode, ...relayable(up) });
        return stream;
      },
    )
    .catch(() => fail(stream, 502));
}

let upstream = null;
function upstreamSession() {
  if (upstream === null || upstream.closed || upstream.destroyed) {
    upstream = http2.connect(`http://${upstreamHost}`);
    upstream.on('error', () => undefined);
  }
  return upstream;
}

function forwardGrpc(stream, headers, id) {
  const out = forwardHeaders(headers, id);
  out[':method'] = headers[':method'];
  out[':path'] = headers[':path'];
  out[':scheme'] = 'http';
  out[':authority'] = upstreamHost;
  const up = upstreamSession().request(out);
  let trailers = null;
  up.on('response', (h) => {
    if (open(stream)) stream.respond({ ':status': h[':status'], ...relayable(h) }, { waitForTrailers: true });
  });
  up.on('trailers', (t) => (trailers = t));
  stream.on('wantTrailers', () => open(stream) && stream.sendTrailers(trailers ?? { 'grpc-status': '14' }));
  stream.pipe(up);
  up.pipe(stream);
  up.on('error', () => open(stream) && stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  stream.on('error', () => up.destroyed || up.close(http2.constants.NGHTTP2_CANCEL));
}

const server = http2.createSecureServer({
  cert: readFileSync(cert),
  key: readFileSync(key),
  ca: readFileSync(ca),
  requestCert: true,
  rejectUnauthorized: true,
});
server.on('stream', (stream, headers) => {
  const id = identityOf(stream.session);
  if (id === null) return void stream.session.destroy();
  (mode === 'grpc' ? forwardGrpc : forwardHttp)(stream, headers, id);
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
