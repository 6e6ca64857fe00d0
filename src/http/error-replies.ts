// The fixed error bodies (README "How a request is judged"): never stack traces, upstream error text or policy
// contents.
import { STATUS_CODES } from 'node:http';

export interface ErrorReply {
  status: number;
  body: string;
}

/** A reply whose body names the error and the request id, nothing else. */
function fixedReply(status: number, error: string): (requestId: string) => ErrorReply {
  return (requestId) => ({ status, body: JSON.stringify({ error, requestId }) });
}

export const forbidden = fixedReply(403, 'forbidden');
export const badRequest = fixedReply(400, 'bad_request');
export const badGateway = fixedReply(502, 'bad_gateway');
export const upstreamTimeout = fixedReply(504, 'upstream_timeout');
export const serviceUnavailable = fixedReply(503, 'unavailable');

/** A request head over Node's header size limit (431). */
export const headerTooLarge = fixedReply(431, 'header_too_large');

/** A request head that did not arrive within --headers-timeout (408). */
export const requestTimeout = fixedReply(408, 'request_timeout');

/**
 * The reply to bytes Node's HTTP/1.1 parser refused (they never became a request, so there is no request id): a
 * bounded set of fixed bodies chosen by the parser's error code alone, never anything taken from the input.
 */
export function clientErrorReply(code: string | undefined): ErrorReply {
  if (code === 'HPE_HEADER_OVERFLOW') return headerTooLarge('');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimeout('');
  return badRequest('');
}

/** A whole HTTP/1.1 response for writing straight to a socket; the connection is closed after it. */
export function formatRawHttp1Reply(err: ErrorReply): string {
  return (
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(err.body)}\r\n` +
    'Connection: close\r\n\r\n' +
    err.body
  );
}

/** Any other failure of our own (never expected): a bare 500 without detail. */
export const internalError = fixedReply(500, 'internal');

/** Classifies an upstream error (undici, node:http2) into a bounded reason and the reply it gets. */
export function upstreamFailure(
  err: { code?: string; statusCode?: number; cause?: unknown },
  requestId: string,
): { reason: string; reply: ErrorReply } {
  const code = `${err.code ?? ''} ${(err.cause as { code?: string } | undefined)?.code ?? ''}`;
  if (err.statusCode === 504 || code.includes('TIMEOUT')) {
    return { reason: 'timeout', reply: upstreamTimeout(requestId) };
  }
  if (code.includes('ECONNREFUSED') || code.includes('ENOENT'))
    return { reason: 'refused', reply: badGateway(requestId) };
  if (code.includes('ECONNRESET') || code.includes('UND_ERR_SOCKET'))
    return { reason: 'reset', reply: badGateway(requestId) };
  if (code.includes('CERT') || code.includes('TLS') || code.includes('SSL'))
    return { reason: 'tls', reply: badGateway(requestId) };
  return { reason: 'other', reply: badGateway(requestId) };
}

/** The caller connection already holds --upstream-streams-per-connection upstream streams. */
export const tooManyStreams = fixedReply(429, 'too_many_streams');
