// The reply of one exchange as the recorder, the relays and the error replies use it: the subset of fastify's reply
// they need, so a fastify reply and the direct path's own reply (direct-reply.ts) are handled by the same code.
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';

/**
 * The request side of an exchange. Typed as fastify types it: an HTTP/2 compat request reads as an IncomingMessage
 * (method, url, headers, socket, complete), which is all the code behind this interface uses.
 */
export interface ExchangeRequest {
  readonly raw: IncomingMessage;
}

export interface ExchangeReply {
  /** The caller's response (an HTTP/2 compat response behind the same type, as in fastify's own types). */
  readonly raw: ServerResponse;
  readonly request: ExchangeRequest;
  /** Milliseconds since the request reached the proxy. */
  readonly elapsedTime: number;
  /** True once the reply was taken over (hijacked) or its response has ended. */
  readonly sent: boolean;
  /** The response is written by the caller of hijack from now on; send() and its headers are no longer used. */
  hijack(): unknown;
  /** A header of the reply send() writes (not of a hijacked response's head). */
  header(name: string, value: string): ExchangeReply;
  getHeader(name: string): OutgoingHttpHeader | undefined;
  code(status: number): ExchangeReply;
  /** Writes the head (status, the headers set, Content-Length) and `payload` as the whole body. */
  send(payload: string): unknown;
}
