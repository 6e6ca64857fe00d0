// gRPC vocabulary for the proxy: which requests are gRPC, the status codes it answers with, and its trailers-only
// refusals.
import http2, { type ServerHttp2Stream } from 'node:http2';

/** The canonical gRPC status codes the proxy itself produces or reports. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** Fixed grpc-message texts: like the HTTP error bodies, never upstream error text or policy contents. */
const MESSAGES: Readonly<Record<number, string>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'request refused by mtls-sidecar: malformed request path or authority',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'deadline exceeded at mtls-sidecar',
  [GrpcStatus.PERMISSION_DENIED]: 'forbidden by mtls-sidecar',
  [GrpcStatus.INTERNAL]: 'internal error in mtls-sidecar',
  [GrpcStatus.UNAVAILABLE]: 'upstream unavailable',
};

export function grpcMessageOf(code: number): string {
  return MESSAGES[code] ?? 'mtls-sidecar error';
}

/**
 * `application/grpc`, `application/grpc+proto`, `application/grpc;…` — but not `application/grpc-web*`, which is
 * plain HTTP (trailers in the body) and goes through the ordinary proxy path.
 */
export function isGrpcContentType(value: string | string[] | undefined): boolean {
  if (typeof value !== 'string') return false;
  const v = value.trim().toLowerCase();
  if (!v.startsWith('application/grpc')) return false;
  const next = v.charAt('application/grpc'.length);
  return next === '' || next === '+' || next === ';';
}

/** The gRPC status a proxy-made HTTP error stands for (an HTTP 400 is the caller's malformed request). */
export function grpcStatusForHttp(status: number): number {
  if (status === 400) return GrpcStatus.INVALID_ARGUMENT;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 429) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (status === 502 || status === 503) return GrpcStatus.UNAVAILABLE;
  if (status === 504) return GrpcStatus.DEADLINE_EXCEEDED;
  if (status === 500) return GrpcStatus.INTERNAL;
  return GrpcStatus.UNKNOWN;
}

/**
 * The gRPC status a client derives from an RST_STREAM code (gRPC's PROTOCOL-HTTP2 "Errors" table), for the
 * access log when a reset is passed on instead of a status.
 */
export function grpcStatusForReset(code: number): number {
  const c = http2.constants;
  if (code === c.NGHTTP2_CANCEL) return GrpcStatus.CANCELLED;
  if (code === c.NGHTTP2_REFUSED_STREAM) return GrpcStatus.UNAVAILABLE;
  if (code === c.NGHTTP2_ENHANCE_YOUR_CALM) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (code === c.NGHTTP2_INADEQUATE_SECURITY) return GrpcStatus.PERMISSION_DENIED;
  return GrpcStatus.INTERNAL;
}

/** grpc-message is percent-encoded (gRPC PROTOCOL-HTTP2): everything outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) =>
    b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}

/** The headers of a trailers-only response carrying `code`. */
export function trailersOnlyHeaders(code: number, requestId: string): http2.OutgoingHttpHeaders {
  return {
    ':status': 200,
    'content-type': 'application/grpc',
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(grpcMessageOf(code)),
    'x-request-id': requestId,
  };
}

/**
 * Answers a gRPC call with `code` in one HEADERS frame with END_STREAM (a trailers-only response), the only form a
 * gRPC client reads when the proxy refuses before any upstream response. Returns false when the stream can no
 * longer take a response (already answered or gone).
 */
export function respondTrailersOnly(stream: ServerHttp2Stream, code: number, requestId: string): boolean {
  if (stream.destroyed || stream.headersSent || stream.closed) return false;
  stream.respond(trailersOnlyHeaders(code, requestId), { endStream: true });
  return true;
}

const TIMEOUT_UNITS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** `grpc-timeout` (1–8 digits and a unit H M S m u n) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (TIMEOUT_UNITS[m[2] ?? ''] ?? 0);
}
