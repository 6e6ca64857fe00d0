// Hand-written HTTP/2 frames for raw-socket tests: the preface, SETTINGS, HEADERS with literal HPACK fields, and the
// malformed frames Node must treat as connection errors.
import tls from 'node:tls';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8 } as const;

/** One frame: 9-byte header (24-bit length, type, flags, 31-bit stream id) and the payload as given. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
  declaredLength = payload.length,
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(declaredLength, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK string literal without Huffman coding (7-bit prefix integer, RFC 7541 §5.1–5.2). */
function hpackString(value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  const len: number[] = [];
  if (bytes.length < 127) len.push(bytes.length);
  else {
    len.push(127);
    let rest = bytes.length - 127;
    while (rest >= 128) {
      len.push((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    len.push(rest);
  }
  return Buffer.concat([Buffer.from(len), bytes]);
}

/** A header block of "literal without indexing, new name" fields (RFC 7541 §6.2.2): no table state to keep. */
export function hpackLiterals(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0]), hpackString(name), hpackString(value)]));
}

export function requestHeaders(method: string, path: string, extra: Array<[string, string]> = []): Buffer {
  return hpackLiterals([
    [':method', method],
    [':scheme', 'https'],
    [':authority', 'localhost'],
    [':path', path],
    ...extra,
  ]);
}

/** The client's opening: preface and an empty SETTINGS. */
export function clientOpening(): Buffer {
  return Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]);
}

/**
 * Frames that are connection errors (RFC 9113) when sent right after a request on stream 1, as named in the tests.
 * `ended` says whether the request's HEADERS carried END_STREAM.
 */
export const CONNECTION_ERRORS: Record<string, { ended: boolean; bytes: Buffer }> = {
  // DATA on a stream whose sender already ended it: STREAM_CLOSED, treated by nghttp2 as a connection error.
  'data-after-end-stream': { ended: true, bytes: frame(FrameType.DATA, 0, 1, Buffer.from('x')) },
  // CONTINUATION not preceded by HEADERS without END_HEADERS.
  'stray-continuation': {
    ended: true,
    bytes: frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, hpackLiterals([['x', 'y']])),
  },
  // DATA larger than the default SETTINGS_MAX_FRAME_SIZE (16,384).
  'oversized-data': { ended: false, bytes: frame(FrameType.DATA, 0, 1, Buffer.alloc(20_000)) },
  // Pad length larger than the payload.
  'bad-padding': { ended: false, bytes: frame(FrameType.DATA, Flag.PADDED, 1, Buffer.from([200, 1, 2, 3])) },
  // PRIORITY must be exactly 5 bytes (a stream error in RFC 9113, a connection error in nghttp2 on some states).
  'priority-wrong-length': { ended: true, bytes: frame(FrameType.PRIORITY, 0, 3, Buffer.alloc(4)) },
  // RST_STREAM must be exactly 4 bytes: FRAME_SIZE_ERROR, a connection error.
  'rst-stream-wrong-length': { ended: true, bytes: frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3)) },
};

/**
 * The whole first flight of such a connection: opening, request on stream 1 (a POST announces a body), the bad frame.
 */
export function connectionErrorFlight(kind: string, path = '/h2-error', requestId = kind): Buffer {
  const spec = CONNECTION_ERRORS[kind];
  if (spec === undefined) throw new Error(`unknown connection error ${kind}`);
  const method = spec.ended ? 'GET' : 'POST';
  const headers = frame(
    FrameType.HEADERS,
    Flag.END_HEADERS | (spec.ended ? Flag.END_STREAM : 0),
    1,
    requestHeaders(method, path, [['x-request-id', requestId]]),
  );
  return Buffer.concat([clientOpening(), headers, spec.bytes]);
}

export interface RawH2Result {
  /** Frame types the server sent, in order. */
  types: number[];
  /** Whether the server ended or reset the connection before the test gave up. */
  closedByServer: boolean;
}

/**
 * A raw TLS connection with ALPN h2: writes `flight`, then half-closes (`end`) when `endAfter` is set, and waits for
 * the server to close (or `timeoutMs`, or `until`). Frame types are parsed from what arrives.
 */
export function rawH2Exchange(o: {
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  flight: Buffer;
  endAfter?: boolean;
  destroyAfterMs?: number;
  timeoutMs?: number;
  /** The test is done with the connection: it is destroyed when this settles. */
  until?: Promise<unknown>;
}): Promise<RawH2Result> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      ALPNProtocols: ['h2'],
    });
    let buf = Buffer.alloc(0);
    const types: number[] = [];
    let closedByServer = false;
    let weClosed = false;
    const timer = setTimeout(() => {
      weClosed = true;
      socket.destroy();
    }, o.timeoutMs ?? 5000);
    void o.until?.finally(() => {
      weClosed = true;
      socket.destroy();
    });
    socket.on('secureConnect', () => {
      socket.write(o.flight);
      if (o.endAfter) socket.end();
      if (o.destroyAfterMs !== undefined)
        setTimeout(() => {
          weClosed = true;
          socket.destroy();
        }, o.destroyAfterMs);
    });
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        types.push(buf.readUInt8(3));
        buf = buf.subarray(9 + len);
      }
    });
    socket.on('end', () => {
      if (!weClosed) closedByServer = true;
    });
    socket.on('error', () => {
      if (!weClosed) closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ types, closedByServer: closedByServer || !weClosed });
    });
  });
}
