// The fixed error bodies (README "How a request is judged"): never stack traces, upstream error text or policy contents.
import { STATUS_CODES } from 'node:http';

export interface ErrorReply {
  status: number;
  body: string;
}

export function forbidden(requestId: string): ErrorReply {
  return { status: 403, body: JSON.stringify({ error: 'forbidden', requestId }) };
}

export function badRequest(requestId: string): ErrorReply {
  return { status: 400, body: JSON.stringify({ error: 'bad_request', requestId }) };
}

export function badGateway(requestId: string): ErrorReply {
  return { status: 502, body: JSON.stringify({ error: 'bad_gateway', requestId }) };
}

export function upstreamTimeout(requestId: string): ErrorReply {
  return { status: 504, body: JSON.stringify({ error: 'upstream_timeout', requestId }) };
}

export function serviceUnavailable(requestId: string): ErrorReply {
  return { status: 503, body: JSON.stringify({ error: 'unavailable', requestId }) };
}

/** A request head over Node's header size limit (431). */
export function headerTooLarge(requestId: string): ErrorReply {
  return { status: 431, body: JSON.stringify({ error: 'header_too_large', requestId }) };
}

/** A request head that did not arrive within --headers-timeout (408). */
export function requestTimeout(requestId: string): ErrorReply {
  return { status: 408, body: JSON.stringify({ error: 'request_timeout', requestId }) };
}

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
export function internalError(requestId: string): ErrorReply {
  return { status: 500, body: JSON.stringify({ error: 'internal', requestId }) };
}

/** Classifies an upstream error (undici, node:http2) into a bounded reason and the reply it gets. */
export function upstreamFailure(err: { code?: string; statusCode?: number; cause?: unknown }, requestId: string): { reason: string; reply: ErrorReply } {
  const code = `${err.code ?? ''} ${(err.cause as { code?: string } | undefined)?.code ?? ''}`;
  if (err.statusCode === 504 || code.includes('TIMEOUT')) {
    return { reason: 'timeout', reply: upstreamTimeout(requestId) };
  }
  if (code.includes('ECONNREFUSED') || code.includes('ENOENT')) return { reason: 'refused', reply: badGateway(requestId) };
  if (code.includes('ECONNRESET') || code.includes('UND_ERR_SOCKET')) return { reason: 'reset', reply: badGateway(requestId) };
  if (code.includes('CERT') || code.includes('TLS') || code.includes('SSL')) return { reason: 'tls', reply: badGateway(requestId) };
  return { reason: 'other', reply: badGateway(requestId) };
}

/** The caller connection already holds --upstream-streams-per-connection upstream streams. */
export function tooManyStreams(requestId: string): ErrorReply {
  return { status: 429, body: JSON.stringify({ error: 'too_many_streams', requestId }) };
}
