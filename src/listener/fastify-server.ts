// The one place where the listener meets fastify's types: fastify serves it through its `serverFactory` option.
import type { FastifyServerFactory } from 'fastify';
import type { DirectPath } from './direct-path.js';
import { serveRequests, type ListenerHandler, type ListenerServer } from './listener.js';

/**
 * fastify's `serverFactory` contract is typed for one server class: with the default (node:http) types it passes a
 * handler of (IncomingMessage, ServerResponse) and expects an http.Server back. The listener is an http2 secure server
 * with allowHTTP1, which emits HTTP/1.1 requests as http messages and HTTP/2 ones as compat messages; fastify tells
 * them apart per request at run time, but its types cannot say "both". Hence this single cast. Requests `direct`
 * serves never reach fastify.
 */
export function fastifyServerFactory(server: ListenerServer, direct?: DirectPath): FastifyServerFactory {
  const factory = (handler: ListenerHandler): ListenerServer => {
    serveRequests(server, handler, direct);
    return server;
  };
  return factory as unknown as FastifyServerFactory;
}
