// The plain Node floor with fastify in front (opt-in contender `node-fastify`): the same https listener, identity and
// undici pool.stream() forwarding, but every request routed through fastify (a catch-all route, one onRequest hook
// like the sidecar's authorize hook, reply.hijack()), to measure what fastify itself adds per request.
// Usage: node node-floor-fastify.mjs PORT UPSTREAM_PORT CERT KEY CA
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Pool } from 'undici';

const [port, upstreamPort, cert, key, ca] = process.argv.slice(2);
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

const app = Fastify({
  https: {
    cert: readFileSync(cert),
    key: readFileSync(key),
    ca: readFileSync(ca),
    requestCert: true,
    rejectUnauthorized: true,
  },
  keepAliveTimeout: 60_000,
  logger: false,
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
app.addHook('onRequest', (request, reply, done) => {
  if (request.raw.socket[kIdentity] === undefined) return void reply.code(403).send();
  done();
});
app.all('/*', (request, reply) => {
  const req = request.raw;
  const res = reply.raw;
  const id = req.socket[kIdentity];
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
  reply.hijack();
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
    .catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"bad_gateway"}');
    });
});
app.server.on('secureConnection', (socket) => {
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
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
