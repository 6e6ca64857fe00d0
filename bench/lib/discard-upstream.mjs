// Plain HTTP upstream for the benchmark: reads and discards request bodies (1 GiB upload test), and serves the small
// fixed body when nginx is missing. Usage: node discard-upstream.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2]);
const BODY = 'hello from upstream\n';

const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    if (req.url === '/whoami') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.headers['x-client-subject'] ?? ''}\n`);
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
      res.end(BODY);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes }));
    }
  });
});
server.keepAliveTimeout = 300_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
