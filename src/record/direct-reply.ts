// The reply of a request served without fastify (the listener's direct path), over Node's raw response: the same
// head, body and timing a fastify reply gives for what the proxy sends.
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ExchangeReply, ExchangeRequest } from './exchange-reply.js';

export class DirectReply implements ExchangeReply {
  readonly raw: ServerResponse;
  readonly request: ExchangeRequest;
  private readonly headers: OutgoingHttpHeaders = {};
  private hijacked = false;

  /** `startedAt`: performance.now() when the request reached the proxy (fastify's clock for elapsedTime). */
  constructor(
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    private readonly startedAt: number,
  ) {
    // The HTTP/2 compat objects offer what ExchangeReply uses of them; fastify's types make the same equation.
    this.raw = res as ServerResponse;
    this.request = { raw: req as IncomingMessage };
  }

  get elapsedTime(): number {
    return performance.now() - this.startedAt;
  }

  get sent(): boolean {
    return this.hijacked || this.raw.writableEnded;
  }

  hijack(): this {
    this.hijacked = true;
    return this;
  }

  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    const key = name.toLowerCase();
    return this.headers[key] ?? this.raw.getHeader(key);
  }

  code(status: number): this {
    this.raw.statusCode = status;
    return this;
  }

  /** As fastify sends a string: Content-Length set from the payload (kept on HEAD when given), then head and body. */
  send(payload: string): this {
    if (this.sent) return this;
    const length = Buffer.byteLength(payload);
    const given = this.headers['content-length'];
    if (given === undefined || (this.request.raw.method !== 'HEAD' && Number(given) !== length))
      this.headers['content-length'] = String(length);
    this.raw.writeHead(this.raw.statusCode, this.headers);
    this.raw.end(payload);
    return this;
  }
}
