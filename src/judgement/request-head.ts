// The head of a request as judgeRequest reads it, and the verified connection it came on, taken from Node's HTTP/1.1
// or HTTP/2 request object.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { verifiedConnectionOf, type VerifiedConnection } from '../gate/verified-connection.js';

/** What a request said about itself, as the listener received it. */
export interface RequestHead {
  method: string;
  /** The request target exactly as received (path and query). */
  target: string;
  /** An HTTP/2 stream, or an HTTP/1.x connection (whatever version its request line claims). */
  transport: 'h1' | 'h2';
  /** The version the request line claims; judged on HTTP/1.x connections only (an HTTP/2 stream reports 2.0). */
  httpVersion: { major: number; minor: number };
  headers: IncomingHttpHeaders;
  /** Names and values alternating, every field as received (`headers` keeps only the first Host). */
  rawHeaders: readonly string[];
}

/**
 * The head of `raw`, which arrived over `transport` (decided by the listener from the connection, not the request
 * line).
 */
export function requestHeadOf(
  raw: IncomingMessage | Http2ServerRequest,
  transport: RequestHead['transport'],
): RequestHead {
  return {
    method: raw.method ?? 'GET',
    target: raw.url ?? '',
    transport,
    httpVersion: { major: raw.httpVersionMajor, minor: raw.httpVersionMinor },
    headers: raw.headers,
    rawHeaders: raw.rawHeaders,
  };
}

/**
 * The verified state of the connection a request came on. For HTTP/2, `raw.socket` is a proxy that forwards property
 * reads to the session's TLS socket, and throws once the session has let go of it; that reads as "no state".
 */
export function connectionOf(raw: IncomingMessage | Http2ServerRequest): VerifiedConnection | undefined {
  try {
    return verifiedConnectionOf(raw.socket);
  } catch {
    return undefined;
  }
}
