// The plain Node floor of issue 19: the least a Node mTLS proxy can do for the benchmark's job, to show what Node
// itself costs. https.createServer (requestCert, rejectUnauthorized), identity read once per socket, undici Pool with
// pool.stream() writing the upstream's head and body straight into the ServerResponse, hop-by-hop headers dropped by a
// Set. Usage: node node-floor-proxy.mjs PORT UPSTREAM_PORT CERT KEY CA [https|h2compat] h2compat: the same handler
// behind http2.createSecureServer({ allowHTTP1: true }) (the sidecar's listener kind), so the listener's own cost for
// HTTP/1.1 connections can be measured apart from everything else.
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [port, upstreamPort, cert, key, ca, listener = 'https'] = process.argv.slice(2);
const kIdentity = Symbol('identity');
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'trailer',
  'host',
  'x-client-subject',
  'x-client-serial',
  'x-client-fingerprint-sha256',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);
const upstreamHost = `127.0.0.1:${upstreamPort}`;

const pool = new Pool(`http://${upstreamHost}`, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

function badGateway(res) {
  if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
  res.end('{"error":"bad_gateway"}');
}

function handle(req, res) {
  const id = req.socket[kIdentity];
  if (id === undefined) return void req.socket.destroy();
  const headers = {};
  for (const name in req.headers) if (!DROP_REQUEST.has(name)) headers[name] = req.headers[name];
  headers.host = upstreamHost;
  headers['x-client-subject'] = id.subject;
  headers['x-client-serial'] = id.serial;
  headers['x-client-fingerprint-sha256'] = id.fingerprint;
  headers['x-forwarded-for'] = id.remote;
  headers['x-forwarded-proto'] = 'https';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool
    .stream(
      { method: req.method, path: req.url, headers, body: hasBody ? req : null },
      ({ statusCode, headers: up }) => {
        const out = {};
        for (const name in up) if (!DROP_RESPONSE.has(name)) out[name] = up[name];
        res.writeHead(statusCode, out);
        return res;
      },
    )
    .catch(() => badGateway(res));
}

// Identity once per connection: the handshake already verified the chain. getPeerCertificate() (not the X509Certificate
// form, which keeps every certificate the client sent alive) and its subject as one string.
function readIdentity(socket) {
  const leaf = socket.getPeerCertificate();
  if (!leaf || !leaf.subject) return void socket.destroy();
  socket[kIdentity] = {
    subject: Object.entries(leaf.subject)
      .map(([k, v]) => `${k}=${v}`)
      .reverse()
      .join(','),
    serial: leaf.serialNumber,
    fingerprint: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
    remote: socket.remoteAddress ?? '',
  };
}

const tlsOptions = {
  cert: readFileSync(cert),
  key: readFileSync(key),
  ca: readFileSync(ca),
  requestCert: true,
  rejectUnauthorized: true,
};
const server =
  listener === 'h2compat'
    ? http2.createSecureServer({ ...tlsOptions, allowHTTP1: true }, handle)
    : https.createServer({ ...tlsOptions, keepAliveTimeout: 60_000 }, handle);
if (listener === 'h2compat') server.keepAliveTimeout = 60_000;
server.on('secureConnection', readIdentity);
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
