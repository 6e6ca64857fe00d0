// Whether an HTTP/1.1 request announces a body (RFC 9112 §6.3): Transfer-Encoding, or a Content-Length other than 0.
import type { IncomingHttpHeaders } from 'node:http';

export function hasHttp1Body(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
