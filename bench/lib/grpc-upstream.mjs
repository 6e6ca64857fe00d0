// A minimal h2c gRPC upstream for the benchmark: every call is answered with one fixed message (shop.v1.Order
// { id: "bench", note: "ok" }) and grpc-status 0, and the caller's X-Client-Subject is echoed in a response header.
// Usage: node grpc-upstream.mjs PORT
import http2 from 'node:http2';

const port = Number(process.argv[2]);
const message = Buffer.from([0x0a, 0x05, ...Buffer.from('bench'), 0x12, 0x02, ...Buffer.from('ok')]);
const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('stream', (stream, headers) => {
  stream.on('data', () => undefined);
  stream.on('end', () => {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'x-seen-subject': headers['x-client-subject'] ?? '' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  });
  stream.on('error', () => undefined);
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
