// The plain Node floor with fastify in front (opt-in contender `node-fastify`): the same https listener, identity and
// undici pool.stream() forwarding, but every request routed through fastify (a catch-all route, one onRequest hook
// like the sidecar's authorize hook, reply.hijack()), to measure what fastify itself adds per request.
// Usage: node node-floor-fastify.mjs PORT UPSTREAM_PORT CERT KEY CA
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { createHttpForwarder, identityOf } from './node-floor-forward.mjs';

const [port, upstreamPort, cert, key, ca] = process.argv.slice(2);
const kIdentity = Symbol('identity');
const forward = createHttpForwarder(upstreamPort);

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
  reply.hijack();
  forward(request.raw, reply.raw, request.raw.socket[kIdentity]);
});
app.server.on('secureConnection', (socket) => {
  const id = identityOf(socket);
  if (id === null) return void socket.destroy();
  socket[kIdentity] = id;
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
