// The built-in upstream of `mtls-sidecar dev`: answers every request with the identity headers it received.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ECHOED_PREFIXES = ['x-client-', 'x-forwarded-', 'x-request-id', 'client-cert'];

export interface EchoUpstream {
  url: string;
  close(): Promise<void>;
}

export async function startEchoUpstream(host = '127.0.0.1', port = 0): Promise<EchoUpstream> {
  const server = http.createServer((req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && ECHOED_PREFIXES.some((p) => name.startsWith(p))) headers[name] = value;
    }
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, path: (req.url ?? '').split('?', 1)[0], headers }, null, 2);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(`${body}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
