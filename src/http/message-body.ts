// How a request is framed: whether an HTTP/1.1 request announces a body (RFC 9112 §6.3).
import type { IncomingHttpHeaders } from 'node:http';

export function hasHttp1Body(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
