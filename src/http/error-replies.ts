// The fixed error bodies of SPEC §5: never stack traces, upstream error text or policy contents.

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

/** Any other failure of our own (never expected): a bare 500 without detail. */
export function internalError(requestId: string): ErrorReply {
  return { status: 500, body: JSON.stringify({ error: 'internal', requestId }) };
}

/** Classifies an upstream error (undici / reply-from) into a bounded reason and the reply it gets. */
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
