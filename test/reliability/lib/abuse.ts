// Abusive TLS clients for the reliability tests: cert-less, wrong-CA, truncated and abandoned handshakes, with bounded
// concurrency.
import net from 'node:net';
import tls from 'node:tls';

export type AttemptResult = 'closed' | 'answered' | 'abandoned';

const REQUEST = 'GET /abuse HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** Full TLS handshake with the given (or no) certificate, then a request: a correct proxy never answers it. */
export function handshakeThenRequest(o: {
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  maxVersion?: tls.SecureVersion;
  timeoutMs?: number;
}): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let got = 0;
    const s = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      maxVersion: o.maxVersion,
    });
    const timer = setTimeout(() => s.destroy(), o.timeoutMs ?? 5000);
    s.on('secureConnect', () => s.write(REQUEST));
    s.on('data', (c: Buffer) => {
      got += c.length;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got > 0 ? 'answered' : 'closed');
    });
  });
}

/** The first flight a real Node TLS client sends (its ClientHello), captured from a local listener. */
export async function captureClientHello(maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      sock.once('data', (c: Buffer) => {
        resolve(c);
        sock.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const c = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        rejectUnauthorized: false,
        maxVersion,
      });
      c.on('error', () => undefined);
    });
    server.on('error', reject);
  });
}

/**
 * Raw TCP: writes `bytes` (maybe a prefix of a ClientHello), then either closes at once, waits for the server's
 * first flight and closes (an abandoned handshake), or waits until the server closes (`waitForClose`).
 */
export function rawAttempt(o: {
  port: number;
  bytes: Buffer;
  mode: 'close-now' | 'after-server-flight' | 'wait-for-close';
  timeoutMs?: number;
}): Promise<{ result: AttemptResult; closedByServerAfterMs: number | null; received: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = 0;
    let byServer: number | null = null;
    let weClosed = false;
    const s = net.connect({ host: '127.0.0.1', port: o.port });
    const timer = setTimeout(() => {
      weClosed = true;
      s.destroy();
    }, o.timeoutMs ?? 5000);
    s.on('connect', () => {
      if (o.bytes.length > 0) s.write(o.bytes);
      if (o.mode === 'close-now') {
        weClosed = true;
        s.destroy();
      }
    });
    s.on('data', (c: Buffer) => {
      received += c.length;
      if (o.mode === 'after-server-flight') {
        weClosed = true;
        s.destroy();
      }
    });
    s.on('end', () => {
      if (!weClosed) byServer = Date.now() - started;
    });
    s.on('error', () => {
      if (!weClosed && byServer === null) byServer = Date.now() - started;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ result: weClosed ? 'abandoned' : 'closed', closedByServerAfterMs: byServer, received });
    });
  });
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function runBounded<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  return out;
}

/**
 * Authorized TLS connection that writes `first` once the handshake completes, then `drip` every `everyMs`
 * (nothing when `drip` is empty) until the server closes or `maxMs` passes. Reports when the server closed.
 */
export function trickleTls(o: {
  port: number;
  ca: string;
  cert: string;
  key: string;
  first: string;
  drip: string;
  everyMs: number;
  maxMs: number;
}): Promise<{ closedByServerAfterMs: number | null; received: string }> {
  return new Promise((resolve) => {
    let startedAt = 0;
    let byServer: number | null = null;
    const chunks: Buffer[] = [];
    const s = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
    });
    let dripTimer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => s.destroy(), o.maxMs);
    s.on('secureConnect', () => {
      startedAt = Date.now();
      s.write(o.first);
      if (o.drip.length > 0)
        dripTimer = setInterval(() => {
          if (!s.destroyed) s.write(o.drip);
        }, o.everyMs);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    const serverClosed = (): void => {
      if (byServer === null && startedAt > 0) byServer = Date.now() - startedAt;
    };
    s.on('end', serverClosed);
    s.on('error', serverClosed);
    s.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(dripTimer);
      resolve({ closedByServerAfterMs: byServer, received: Buffer.concat(chunks).toString('latin1') });
    });
  });
}
