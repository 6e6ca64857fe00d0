// Test upstream for WebSocket tests: records every upgrade request and TCP connection, echoes messages back.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedUpgrade {
  url: string;
  rawHeaders: string[];
}

export interface WsUpstream {
  /** `http://127.0.0.1:port` or, for a unix socket, the socket path. */
  url: string;
  upgrades: RecordedUpgrade[];
  /** TCP (or unix) connections accepted, whatever was sent on them. */
  connections: () => number;
  /** Plain HTTP requests (not upgrades) that reached the upstream. */
  plainRequests: RecordedUpgrade[];
  /** When set, upgrade requests are refused with this status instead of accepted. */
  refuseWith?: number;
  /** When set, an accepted upgrade is answered (101) only once this settles. */
  holdUpgrades?: Promise<void>;
  close(): Promise<void>;
}

/** Plain HTTP on 127.0.0.1 by default; `socketPath` listens on a unix socket, `tls` serves HTTPS (wss). */
export async function startWsUpstream(
  listen: { socketPath?: string; tls?: { cert: string; key: string } } = {},
): Promise<WsUpstream> {
  const upgrades: RecordedUpgrade[] = [];
  const plainRequests: RecordedUpgrade[] = [];
  let connections = 0;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    plainRequests.push({ url: req.url ?? '', rawHeaders: req.rawHeaders });
    res.end('plain');
  };
  const server = listen.tls ? https.createServer(listen.tls, onRequest) : http.createServer(onRequest);
  server.on(listen.tls ? 'secureConnection' : 'connection', () => {
    connections += 1;
  });
  const wss = new WebSocketServer({ noServer: true });
  const upstream: WsUpstream = {
    url: '',
    upgrades,
    plainRequests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('upgrade', (req, socket, head) => {
    upgrades.push({ url: req.url ?? '', rawHeaders: req.rawHeaders });
    if (upstream.refuseWith !== undefined) {
      socket.end(
        `HTTP/1.1 ${upstream.refuseWith} Nope\r\ncontent-type: text/plain\r\ncontent-length: 8\r\nx-upstream: yes\r\nconnection: close\r\n\r\nnot here`,
      );
      return;
    }
    void Promise.resolve(upstream.holdUpgrades).then(() =>
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        ws.on('message', (data, isBinary) =>
          ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }),
        );
      }),
    );
  });
  if (listen.socketPath) {
    await new Promise<void>((resolve) => server.listen(listen.socketPath, resolve));
    upstream.url = listen.socketPath;
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream.url = `${listen.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return upstream;
}

/** Values of header `name` (case-insensitive) in a raw header list, in wire order. */
export function headerValues(rawHeaders: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === name.toLowerCase()) out.push(rawHeaders[i + 1] ?? '');
  }
  return out;
}
