// An error thrown by the proxy's own exchange code after it took a reply over from fastify (which would drop it
// silently with logger: false) is answered with the fixed 500, logged and left for onResponse to count.
import t from 'tap';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import fastify from 'fastify';
import pino from 'pino';
import { answerPipelineFailure } from '../../src/upstream/pipeline-failure.js';
import { openRequestContext } from '../../src/record/request-context.js';

t.test('a throw after hijack is answered 500 with the fixed body, logged, and reaches onResponse', async (t) => {
  const logged: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(c: Buffer, _e, cb) {
        logged.push(JSON.parse(c.toString()));
        cb();
      },
    }),
  );
  const app = fastify({ logger: false });
  const finished: number[] = [];
  app.addHook('onRequest', (request, reply) => {
    Object.assign(openRequestContext(request, reply, { requestId: 'boom-1', conn: undefined }), {
      path: '/x',
      decision: 'allow',
    });
    reply.hijack();
    try {
      throw Object.assign(new Error('secret detail'), { code: 'ERR_TEST' });
    } catch (err) {
      answerPipelineFailure(request, reply, err, log);
    }
  });
  app.addHook('onResponse', (_request, reply, done) => {
    finished.push(reply.raw.statusCode);
    done();
  });
  app.get('/*', async () => 'ok');
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const port = (app.server.address() as AddressInfo).port;
  const res = await new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/x' }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () =>
            resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: r.headers }),
          );
        })
        .on('error', reject);
    },
  );
  t.equal(res.status, 500);
  t.equal(res.body, '{"error":"internal","requestId":"boom-1"}', 'the fixed body, no error text');
  t.equal(res.headers['x-request-id'], 'boom-1');
  t.match(
    logged,
    [{ level: 40, msg: 'request failed inside the proxy', requestId: 'boom-1', code: 'ERR_TEST', status: 500 }],
    'logged once as a warning',
  );
  t.notOk(JSON.stringify(logged).includes('secret detail'), 'the error message is not logged');
  t.ok(
    await new Promise<boolean>((resolve) => {
      const started = Date.now();
      const check = (): void =>
        finished.includes(500)
          ? resolve(true)
          : Date.now() - started > 5000
            ? resolve(false)
            : void setTimeout(check, 20);
      check();
    }),
    'onResponse saw the 500 (where the access line and requests_total are written)',
  );
});
