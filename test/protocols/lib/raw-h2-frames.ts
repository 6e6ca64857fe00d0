// A hand-rolled HTTP/2 client over mTLS: writes frames byte by byte and parses what the server sends, so tests see
// SETTINGS, RST_STREAM and GOAWAY as they are on the wire.
import tls from 'node:tls';

export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
} as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const SETTING = { MAX_CONCURRENT_STREAMS: 0x3 } as const;
export const ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK "literal header field without indexing, new name", no Huffman; names and values under 127 bytes. */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  if (n.length > 126 || v.length > 126) throw new Error('header too long for this encoder');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

export function headersFrame(streamId: number, headers: Array<[string, string]>, endStream: boolean): Buffer {
  const block = Buffer.concat(headers.map(([n, v]) => literal(n, v)));
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), streamId, block);
}

export function rstStreamFrame(streamId: number, code: number = ERROR.CANCEL): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

export function pingFrame(data: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(data, 4);
  return frame(FRAME.PING, 0, 0, payload);
}

/** The SETTINGS entries of a SETTINGS frame, by identifier. */
export function settingsOf(f: Frame): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i + 6 <= f.payload.length; i += 6) out.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
  return out;
}

export function errorCodeOf(f: Frame): number {
  return f.type === FRAME.GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
}

export interface RawH2 {
  socket: tls.TLSSocket;
  frames: Frame[];
  closed: Promise<void>;
  send(bytes: Buffer): boolean;
  /**
   * Resolves with the first received frame matching `match` (already received or future), or null after `timeoutMs`.
   */
  waitFor(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame | null>;
}

/** Opens an mTLS connection with ALPN h2, sends the preface and an empty SETTINGS, and ACKs the server's SETTINGS. */
export function connectRawH2(o: { port: number; ca: string; cert: string; key: string }): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      ALPNProtocols: ['h2'],
    });
    const frames: Frame[] = [];
    const waiters: Array<{ match: (f: Frame) => boolean; done: (f: Frame | null) => void }> = [];
    let buffered = Buffer.alloc(0);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const f: Frame = {
          type: buffered[3]!,
          flags: buffered[4]!,
          streamId: buffered.readUInt32BE(5) & 0x7fffffff,
          payload: buffered.subarray(9, 9 + length),
        };
        buffered = buffered.subarray(9 + length);
        frames.push(f);
        if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && socket.writable)
          socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        for (const w of waiters.slice()) {
          if (w.match(f)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.done(f);
          }
        }
      }
    });
    socket.once('close', () => {
      for (const w of waiters.splice(0)) w.done(null);
    });
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}`));
        return;
      }
      socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
      resolve({
        socket,
        frames,
        closed,
        send: (bytes) => socket.writable && socket.write(bytes),
        waitFor(match, timeoutMs = 10_000) {
          const seen = frames.find(match);
          if (seen !== undefined) return Promise.resolve(seen);
          if (socket.destroyed) return Promise.resolve(null);
          return new Promise((done) => {
            const timer = setTimeout(() => {
              const i = waiters.findIndex((w) => w.done === finish);
              if (i >= 0) waiters.splice(i, 1);
              done(null);
            }, timeoutMs);
            const finish = (f: Frame | null): void => {
              clearTimeout(timer);
              done(f);
            };
            waiters.push({ match, done: finish });
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

export function requestHeaders(path: string, method = 'GET'): Array<[string, string]> {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':path', path],
    [':authority', 'localhost'],
  ];
}
