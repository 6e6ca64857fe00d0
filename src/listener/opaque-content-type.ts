// Keeps fastify from judging a request's Content-Type: the proxy never parses bodies, so any value is forwarded as
// sent.
//
// fastify answers a body whose Content-Type it cannot parse (`json`, an empty value) with 415 before any handler runs,
// and no parser option changes that. So the header is set aside after admission (preParsing, which only forwarded
// requests reach) and put back before the handler builds the upstream request (preHandler): fastify sees a body with
// no Content-Type and hands it, unread, to the catch-all pass-through parser.
import type { FastifyInstance, FastifyRequest } from 'fastify';

const kContentType = Symbol('mtls-sidecar.content-type');

type Marked = FastifyRequest & { [kContentType]?: string };

export function keepContentTypeOpaque(app: FastifyInstance): void {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const headers = request.raw.headers;
    const value = headers['content-type'];
    if (value !== undefined) {
      (request as Marked)[kContentType] = value;
      delete headers['content-type'];
    }
    done(null, payload);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const value = (request as Marked)[kContentType];
    if (value !== undefined) request.raw.headers['content-type'] = value;
    done();
  });
}
