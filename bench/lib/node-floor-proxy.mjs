// Reference contender: the least a Node proxy can do for the same job (node:https, identity cached per connection, undici Pool), to show what Node itself costs.
// Usage: node node-floor-proxy.mjs PORT UPSTREAM_PORT CERT KEY CA
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [port, upstreamPort, cert, key, ca] = process.argv.slice(2);
const kIdentity = Symbol('identity');
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'host',
  'x-client-subject', 'x-client-serial', 'x-client-fingerprint-sha256', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

const server = https.createServer({
  cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca),
  requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000,
}, (req, res) => {
  const id = req.socket[kIdentity];
  if (id === undefined) return void req.socket.destroy();
  const headers = {};
  for (const name in req.headers) if (!HOP_BY_HOP.has(name)) headers[name] = req.headers[name];
  headers.host = `127.0.0.1:${upstreamPort}`;
  headers['x-client-subject'] = id.subject;
  headers['x-client-serial'] = id.serial;
  headers['x-client-fingerprint-sha256'] = id.fingerprint;
  headers['x-forwarded-for'] = id.remote;
  headers['x-forwarded-proto'] = 'https';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.request({ method: req.method, path: req.url, headers, body: hasBody ? req : null }).then(({ statusCode, headers: up, body }) => {
    for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete up[name];
    res.writeHead(statusCode, up);
    body.pipe(res);
  }, () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"bad_gateway"}');
  });
});

// Identity once per connection: the handshake already verified the chain.
server.on('secureConnection', (socket) => {
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return void socket.destroy();
  socket[kIdentity] = {
    subject: leaf.subject.split('\n').reverse().join(','),
    serial: leaf.serialNumber,
    fingerprint: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
    remote: socket.remoteAddress ?? '',
  };
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
