// How a request is framed: whether an HTTP/1.1 request announces a body (RFC 9112 §6.3), and the HTTP/2 stream of a
// request that came over HTTP/2.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export function hasHttp1Body(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The HTTP/2 stream of a request or response of an exchange over HTTP/2. Judged by the object, not by
 * `httpVersionMajor`: an HTTP/1.1 connection may send a request line reading `HTTP/2.0`, which Node's HTTP/1.1
 * parser reports as version 2.
 */
export function h2StreamOf(
  message: IncomingMessage | Http2ServerRequest | ServerResponse | Http2ServerResponse,
): Http2ServerRequest['stream'] | undefined {
  return (message as Partial<Http2ServerRequest>).stream;
}
