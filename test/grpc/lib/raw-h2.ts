// Frame-level view of a gRPC exchange with node:http2 itself, so the tests see what grpc-js hides (one HEADERS frame
// or two, reset codes).
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { CertFiles } from '../../helpers/pki.js';
import type { TestPki } from '../../helpers/gate-harness.js';

/** A length-prefixed gRPC message carrying an OrderRequest{id} (protobuf field 1, wire type 2), hand-encoded. */
export function frameOrderRequest(id: string): Buffer {
  const body = Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(id)]), Buffer.from(id)]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

export interface RawOutcome {
  headers: http2.IncomingHttpHeaders;
  /** True when the response HEADERS frame carried END_STREAM: a trailers-only response in one frame. */
  endStreamOnHeaders: boolean;
  trailers?: http2.IncomingHttpHeaders;
  body: Buffer;
  rstCode: number;
}

/** One gRPC-shaped POST over a fresh mTLS HTTP/2 connection; resolves when the stream closes. */
export function rawGrpcCall(
  port: number,
  pki: TestPki,
  o: {
    path: string;
    headers?: http2.OutgoingHttpHeaders;
    body?: Buffer;
    client?: CertFiles;
    keepOpen?: boolean;
    timeoutMs?: number;
  },
): Promise<RawOutcome> {
  const client = o.client ?? pki.client;
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    ca: pki.ca.certPem,
    cert: client.certPem,
    key: client.keyPem,
    servername: 'localhost',
  });
  return new Promise((resolve, reject) => {
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': o.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...o.headers,
    });
    const out: Partial<RawOutcome> = { endStreamOnHeaders: false };
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), o.timeoutMs ?? 5000);
    req.on('response', (headers, flags) => {
      out.headers = headers;
      out.endStreamOnHeaders = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    req.on('trailers', (trailers) => {
      out.trailers = trailers;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      out.body = Buffer.concat(chunks);
      out.rstCode = req.rstCode ?? 0;
      session.close();
      resolve(out as RawOutcome);
    });
    if (o.keepOpen) req.write(o.body ?? frameOrderRequest('x'));
    else req.end(o.body ?? frameOrderRequest('x'));
  });
}

export interface RawUpstream {
  url: string;
  /** Every stream the upstream received, with how it ended (the rstCode it saw). */
  streams: Array<{
    path: string;
    headers: http2.IncomingHttpHeaders;
    closedWith?: number;
    stream: http2.ServerHttp2Stream;
  }>;
  close(): Promise<void>;
}

/**
 * An h2c upstream driven by `onStream`, for behaviours a real gRPC server will not show (ignoring deadlines, resets).
 */
export async function startRawH2cUpstream(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<RawUpstream> {
  const streams: RawUpstream['streams'] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const entry: RawUpstream['streams'][number] = { path: String(headers[':path']), headers, stream };
    streams.push(entry);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      entry.closedWith = stream.rstCode;
    });
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    streams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
