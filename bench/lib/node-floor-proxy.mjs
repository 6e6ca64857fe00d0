// The plain Node floor of issue 19: the least a Node mTLS proxy can do for the benchmark's job, to show what Node
// itself costs. https.createServer (requestCert, rejectUnauthorized), identity read once per socket, undici Pool with
// pool.stream() writing the upstream's head and body straight into the ServerResponse, hop-by-hop headers dropped by a
// Set. Usage: node node-floor-proxy.mjs PORT UPSTREAM_PORT CERT KEY CA [https|h2compat] h2compat: the same handler
// behind http2.createSecureServer({ allowHTTP1: true }) (the sidecar's listener kind), so the listener's own cost for
// HTTP/1.1 connections can be measured apart from everything else.
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { createHttpForwarder, identityOf } from './node-floor-forward.mjs';

const [port, upstreamPort, cert, key, ca, listener = 'https'] = process.argv.slice(2);
const kIdentity = Symbol('identity');
const forward = createHttpForwarder(upstreamPort);

function handle(req, res) {
  const id = req.socket[kIdentity];
  if (id === undefined) return void req.socket.destroy();
  forward(req, res, id);
}

// Identity once per connection: the handshake already verified the chain.
function readIdentity(socket) {
  const id = identityOf(socket);
  if (id === null) return void socket.destroy();
  socket[kIdentity] = id;
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
