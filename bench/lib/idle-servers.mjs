// Bare servers for bench/idle-memory.mjs, each answering one small HTTP/1.1 GET per connection and then holding it:
// what Node itself keeps per idle mTLS connection at each layer the sidecar stacks.
// Usage: node idle-servers.mjs tls|tls-nocert|https|h2compat PORT CERT KEY CA   (tls-nocert: no client certificate
// asked for)
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';

const [kind, port, cert, key, ca] = process.argv.slice(2);
const asksCert = kind !== 'tls-nocert';
const options = {
  cert: readFileSync(cert),
  key: readFileSync(key),
  ca: readFileSync(ca),
  requestCert: asksCert,
  rejectUnauthorized: asksCert,
};
const body = 'hello from upstream\n';
const answer = (req, res) =>
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body);

let server;
if (kind === 'tls' || kind === 'tls-nocert') {
  // No HTTP parser: every chunk that completes a request head gets the same fixed answer.
  const raw = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  server = tls.createServer(options, (socket) => {
    socket.on('data', (d) => d.includes('\r\n\r\n') && socket.write(raw));
    socket.on('error', () => undefined);
  });
} else if (kind === 'https') server = https.createServer({ ...options, keepAliveTimeout: 600_000 }, answer);
else if (kind === 'h2compat') {
  server = http2.createSecureServer({ ...options, allowHTTP1: true }, answer);
  server.keepAliveTimeout = 600_000;
} else throw new Error(`unknown kind ${kind}`);
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
