// What the plain Node floors share (node-floor-proxy, node-floor-fastify, node-floor-h2): the identity read once per
// connection, the identity headers, and the HTTP/1.1 forwarding through undici pool.stream() with hop-by-hop headers
// dropped by a Set.
import { Pool } from 'undici';

/** Forgeable identity headers: whatever the caller sent under these names never travels on. */
const IDENTITY_HEADERS = [
  'x-client-subject',
  'x-client-serial',
  'x-client-fingerprint-sha256',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
];
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];
const DROP_REQUEST = new Set([...HOP_BY_HOP, 'te', 'trailer', 'host', ...IDENTITY_HEADERS]);
const DROP_RESPONSE = new Set([...HOP_BY_HOP, 'trailer']);

/**
 * The caller's identity from its verified TLS socket, or null without a certificate. getPeerCertificate() (not the
 * X509Certificate form, which keeps every certificate the client sent alive) and its subject as one string.
 */
export function identityOf(socket) {
  const leaf = socket.getPeerCertificate();
  if (!leaf || !leaf.subject) return null;
  return {
    subject: Object.entries(leaf.subject)
      .map(([k, v]) => `${k}=${v}`)
      .reverse()
      .join(','),
    serial: leaf.serialNumber,
    fingerprint: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
    remote: socket.remoteAddress ?? '',
  };
}

/** `incoming` without the names in `drop`, plus the identity headers; `forwardedHost` is the caller's Host. */
export function withIdentity(incoming, drop, id, forwardedHost) {
  const out = {};
  for (const name in incoming) if (!drop.has(name)) out[name] = incoming[name];
  out['x-client-subject'] = id.subject;
  out['x-client-serial'] = id.serial;
  out['x-client-fingerprint-sha256'] = id.fingerprint;
  out['x-forwarded-for'] = id.remote;
  out['x-forwarded-proto'] = 'https';
  if (forwardedHost !== undefined) out['x-forwarded-host'] = forwardedHost;
  return out;
}

/** `headers` without the names in `drop`. */
export function without(headers, drop) {
  const out = {};
  for (const name in headers) if (!drop.has(name)) out[name] = headers[name];
  return out;
}

/** A forwarder of HTTP/1.x requests (IncomingMessage, ServerResponse) to the upstream on 127.0.0.1:`upstreamPort`. */
export function createHttpForwarder(upstreamPort) {
  const upstreamHost = `127.0.0.1:${upstreamPort}`;
  const pool = new Pool(`http://${upstreamHost}`, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  return function forward(req, res, id) {
    const headers = withIdentity(req.headers, DROP_REQUEST, id, req.headers.host);
    headers.host = upstreamHost;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool
      .stream(
        { method: req.method, path: req.url, headers, body: hasBody ? req : null },
        ({ statusCode, headers: up }) => {
          res.writeHead(statusCode, without(up, DROP_RESPONSE));
          return res;
        },
      )
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"bad_gateway"}');
      });
  };
}
