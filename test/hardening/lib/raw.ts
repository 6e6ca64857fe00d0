// Helpers for the hardening tests: bounded waits, a held-open raw TLS connection, and an upstream that records partial
// requests.
import http from 'node:http';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TestPki } from '../../helpers/gate-harness.js';
import { poll } from '../../helpers/wait-for.js';

/** Polls `check` every 20 ms until it is true or `ms` have passed; resolves with its last value. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  return poll(check, { timeoutMs: ms });
}

export interface HeldConnection {
  socket: tls.TLSSocket;
  /** Everything received so far, as latin1. */
  received(): string;
  /** Resolves when the server closed the connection (or after `ms`, with false). */
  closed(ms?: number): Promise<boolean>;
}

/** A TLS connection with the test client certificate, HTTP/1.1 by ALPN, left open for the test to write on. */
export async function openHttp1(pki: TestPki, port: number): Promise<HeldConnection> {
  const chunks: Buffer[] = [];
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    ALPNProtocols: ['http/1.1'],
  });
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  let isClosed = false;
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks).toString('latin1'),
    closed: async (ms = 3000) => {
      if (isClosed) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      const result = await Promise.race([closedPromise.then(() => true), timedOut]);
      clearTimeout(timer);
      return result;
    },
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  requestId: string;
  bytes: number;
  state: 'open' | 'complete' | 'aborted';
}

export interface PartialUpstream {
  url: string;
  seen: SeenRequest[];
  /** Per path: answer at once without reading the body, or hold the answer until `release()`. */
  mode: Record<string, 'early' | 'hold'>;
  release(): void;
  close(): Promise<void>;
}

/**
 * An upstream that records each request as soon as its head arrives, then how many body bytes came and how it ended.
 */
export async function startPartialUpstream(): Promise<PartialUpstream> {
  const seen: SeenRequest[] = [];
  const mode: Record<string, 'early' | 'hold'> = {};
  const held: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const rec: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      requestId: String(req.headers['x-request-id'] ?? ''),
      bytes: 0,
      state: 'open',
    };
    seen.push(rec);
    const answer = (): void => {
      if (!res.destroyed) res.end(`upstream-ok ${rec.url}`);
    };
    req.on('data', (c: Buffer) => {
      rec.bytes += c.length;
    });
    req.on('end', () => {
      rec.state = 'complete';
      if (mode[rec.url] === 'hold') held.push(answer);
      else if (mode[rec.url] !== 'early') answer();
    });
    req.on('aborted', () => {
      rec.state = 'aborted';
    });
    req.on('error', () => undefined);
    if (mode[rec.url] === 'early') answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    mode,
    release: () => held.splice(0).forEach((f) => f()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Access lines (msg "access") of the test proxy's log. */
export function accessLines(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((l) => l.msg === 'access');
}
