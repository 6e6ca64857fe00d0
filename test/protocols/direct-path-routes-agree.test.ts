// The direct path takes only requests fastify's router would hand to the catch-all forwarding route: for every
// target it accepts, a fastify app routed like the proxy's (same routes, methods and router options) reaches the
// catch-all handler, never its not-found handler or a framework error. fastify's router is the oracle.
import t from 'tap';
import fastify from 'fastify';
import { FORWARDED_METHODS, routesToCatchAll } from '../../src/listener/forwarded-routes.js';

const TARGETS = [
  '/',
  '/a',
  '/a/b/c',
  '//double',
  '/a/../b',
  '/./x',
  '/trailing/',
  '/q?x=1',
  '/q?x=%2F&y=%FF',
  '/q?#frag',
  '/colon:name',
  '/at@x',
  '/tilde~',
  '/semi;x',
  '/star*',
  '/plus+space',
  '/quote"<>',
  '/' + 'x'.repeat(20_000),
  // Not taken (escape in the path, not origin-form): fastify decides these as always.
  '/%FF',
  '/caf%C3%A9',
  '/a%2Fb',
  '*',
  'http://h/x',
  'h',
];

t.test('every request the direct path takes, fastify routes to the catch-all', async (t) => {
  const app = fastify({
    routerOptions: { maxParamLength: 65_536 },
    frameworkErrors: (_err, _req, reply) => {
      reply.raw.writeHead(400).end('framework');
    },
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send('not-found');
  });
  for (const url of ['/', '/*']) app.route({ url, method: FORWARDED_METHODS, handler: async () => 'catch-all' });
  await app.ready();
  t.teardown(() => app.close());
  let taken = 0;
  for (const method of FORWARDED_METHODS) {
    for (const target of TARGETS) {
      if (!routesToCatchAll(method, target)) continue;
      taken += 1;
      const res = await app.inject({ method, url: target });
      if (method === 'HEAD') t.equal(res.statusCode, 200, `${method} ${target.slice(0, 40)}`);
      else t.equal(res.body, 'catch-all', `${method} ${target.slice(0, 40)}`);
    }
  }
  t.ok(taken >= 18 * FORWARDED_METHODS.length, `${taken} method and target pairs taken`);
  for (const target of ['/%FF', '/caf%C3%A9', '/a%2Fb', '*', 'http://h/x', 'h'])
    t.notOk(routesToCatchAll('GET', target), `left to fastify: ${target}`);
  for (const method of ['get', 'TRACE', 'PROPFIND', 'CONNECT', undefined])
    t.notOk(routesToCatchAll(method, '/a'), `left to fastify: method ${String(method)}`);
});
