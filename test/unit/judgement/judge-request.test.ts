// judgeRequest without fastify or sockets: request heads written out by hand, a policy compiled from a hand-written
// document, callers from openssl-made certificates (test/unit/gate/fixtures), and every expected verdict spelled out.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { compilePolicy } from '../../../src/authz/route-policy.js';
import { computeIdentity } from '../../../src/identity/identity.js';
import { judgeRequest, type CallerStanding } from '../../../src/judgement/judge-request.js';
import type { RequestHead } from '../../../src/judgement/request-head.js';

const identityOf = (name: string) =>
  computeIdentity(new X509Certificate(readFileSync(new URL(`../gate/fixtures/${name}.crt`, import.meta.url))));
const alice: CallerStanding = { identity: identityOf('alice'), revoked: false };
const bob: CallerStanding = { identity: identityOf('bob'), revoked: false };

/** /admin for alice only (by CN); /public for anyone verified; everything else for the prod namespace by URI. */
const snapshot = {
  policy: compilePolicy(
    {
      routes: [
        { path: '/admin', allow: [{ cn: 'alice' }] },
        { path: '/public', allow: 'any-verified' },
      ],
      default: { allow: [{ uri: 'spiffe://example.org/ns/prod/sa/alice' }] },
    },
    null,
  ),
};

function h1(target: string, extra: Partial<RequestHead> = {}): RequestHead {
  const rawHeaders = extra.rawHeaders ?? ['Host', 'svc.example'];
  return {
    method: 'GET',
    target,
    transport: 'h1',
    httpVersion: { major: 1, minor: 1 },
    headers: { host: 'svc.example' },
    rawHeaders,
    ...extra,
  };
}

function h2(target: string, headers: RequestHead['headers'] = {}, rawHeaders: string[] = []): RequestHead {
  return {
    method: 'GET',
    target,
    transport: 'h2',
    httpVersion: { major: 2, minor: 0 },
    headers: { ':authority': 'svc.example', ':path': target, ...headers },
    rawHeaders: [':authority', 'svc.example', ':path', target, ...rawHeaders],
  };
}

t.test('an allowed request: the normalized path is judged and forwarded, the query untouched', async (t) => {
  t.same(judgeRequest(h1('/a/./b/../c//d?x=%2F&y'), alice, snapshot, false), {
    decision: 'allow',
    path: '/a/c/d',
    route: 'default',
    rule: 'uri=spiffe://example.org/ns/prod/sa/alice',
    forwardTarget: '/a/c/d?x=%2F&y',
    draining: false,
  });
  t.same(judgeRequest(h1('/%61dmin/x'), alice, snapshot, false), {
    decision: 'allow',
    path: '/admin/x',
    route: 'routes[0] /admin',
    rule: 'cn=alice',
    forwardTarget: '/admin/x',
    draining: false,
  });
  t.same(judgeRequest(h2('/public'), bob, snapshot, false), {
    decision: 'allow',
    path: '/public',
    route: 'routes[1] /public',
    rule: 'any-verified',
    forwardTarget: '/public',
    draining: false,
  });
});

t.test('a denied request names the deciding route and why', async (t) => {
  t.same(judgeRequest(h1('/admin'), bob, snapshot, false), {
    decision: 'deny',
    path: '/admin',
    route: 'routes[0] /admin',
    rule: null,
    refusal: 'no_rule_matched',
  });
  const openDefault = {
    policy: compilePolicy(
      { routes: [{ path: '/admin', allow: [{ cn: 'alice' }] }], default: { allow: 'any-verified' } },
      null,
    ),
  };
  t.equal(judgeRequest(h2('/ADMINX'), bob, openDefault, false).decision, 'allow');
  t.same(
    judgeRequest(h2('/ADMIN'), bob, openDefault, false),
    { decision: 'deny', path: '/ADMIN', route: 'routes[0] /admin', rule: null, refusal: 'no_rule_matched' },
    'a case-folded reading is judged too',
  );
  t.same(judgeRequest(h1('/other'), bob, snapshot, false), {
    decision: 'deny',
    path: '/other',
    route: 'default',
    rule: null,
    refusal: 'no_rule_matched',
  });
});

t.test('a revoked caller is refused after the head is found well-formed, before the policy', async (t) => {
  const revoked = { ...alice, revoked: true };
  t.same(judgeRequest(h1('/public?q'), revoked, snapshot, false), { decision: 'revoked', path: '/public' });
  t.same(judgeRequest(h1('/%2e%2e/x?q'), revoked, snapshot, false), {
    decision: 'bad_request',
    path: '/%2e%2e/x',
    unframed: false,
  });
});

t.test('unsafe targets are bad requests, logged by their raw path without the query', async (t) => {
  const targets = [
    '/a%2Fb',
    '/a;b',
    '/..',
    '/a/%2e%2e/b',
    'http://svc.example/a',
    '*',
    '/a\\b',
    '/%252e%252e/x',
    '/a%00',
  ];
  for (const target of targets) {
    t.same(
      judgeRequest(h1(`${target}?secret=1`), alice, snapshot, false),
      { decision: 'bad_request', path: target, unframed: false },
      target,
    );
  }
});

t.test(
  'HTTP/1.1 framing: a request line of another version, or a body of unknowable length, ends the connection',
  async (t) => {
    const unframed = { decision: 'bad_request', path: '/public', unframed: true };
    t.same(
      judgeRequest(h1('/public', { httpVersion: { major: 2, minor: 0 } }), alice, snapshot, false),
      unframed,
      'HTTP/2.0 on an HTTP/1 connection',
    );
    t.same(
      judgeRequest(h1('/public', { httpVersion: { major: 0, minor: 9 } }), alice, snapshot, false),
      unframed,
      'HTTP/0.9',
    );
    t.same(
      judgeRequest(h1('/public', { httpVersion: { major: 1, minor: 2 } }), alice, snapshot, false),
      unframed,
      'HTTP/1.2',
    );
    const te = (value: string) => h1('/public', { headers: { host: 'svc.example', 'transfer-encoding': value } });
    t.same(judgeRequest(te('chunked, gzip'), alice, snapshot, false), unframed, 'chunked not last');
    t.same(judgeRequest(te('gzip'), alice, snapshot, false), unframed, 'no chunked');
    t.equal(judgeRequest(te('gzip, Chunked '), alice, snapshot, false).decision, 'allow', 'chunked last, any case');
    t.equal(
      judgeRequest(h1('/public', { httpVersion: { major: 1, minor: 0 } }), alice, snapshot, false).decision,
      'allow',
      'HTTP/1.0',
    );
  },
);

t.test('Host: required once on HTTP/1.1; on HTTP/2 optional, but only repeating :authority', async (t) => {
  const bad = { decision: 'bad_request', path: '/public', unframed: false };
  t.same(
    judgeRequest(h1('/public', { headers: {}, rawHeaders: [] }), alice, snapshot, false),
    bad,
    'HTTP/1.1 without Host',
  );
  t.same(
    judgeRequest(
      h1('/public', { rawHeaders: ['Host', 'svc.example', 'hOsT', 'other.example'] }),
      alice,
      snapshot,
      false,
    ),
    bad,
    'two Host fields',
  );
  t.equal(
    judgeRequest(h1('/public', { rawHeaders: ['Host', 'svc.example', 'Hosts', 'x'] }), alice, snapshot, false).decision,
    'allow',
    'a longer name is not Host',
  );
  t.equal(judgeRequest(h2('/public'), alice, snapshot, false).decision, 'allow', 'HTTP/2 without Host');
  t.equal(
    judgeRequest(h2('/public', { host: 'SVC.example' }, ['host', 'SVC.example']), alice, snapshot, false).decision,
    'allow',
    'Host repeating :authority',
  );
  t.same(
    judgeRequest(h2('/public', { host: 'other.example' }, ['host', 'other.example']), alice, snapshot, false),
    bad,
    'Host naming another authority',
  );
  t.equal(
    judgeRequest(
      {
        ...h2('/public'),
        httpVersion: { major: 1, minor: 1 },
        headers: { ':authority': 'svc.example', 'transfer-encoding': 'gzip' },
      },
      alice,
      snapshot,
      false,
    ).decision,
    'allow',
    'HTTP/1.1 framing rules do not apply to an HTTP/2 stream',
  );
});

t.test('draining changes what is done with an allowed request, not the verdict', async (t) => {
  t.same(judgeRequest(h1('/public?x'), alice, snapshot, true), {
    decision: 'allow',
    path: '/public',
    route: 'routes[1] /public',
    rule: 'any-verified',
    forwardTarget: '/public?x',
    draining: true,
  });
  t.equal(judgeRequest(h1('/admin'), bob, snapshot, true).decision, 'deny');
  t.equal(judgeRequest(h1('/a;b'), alice, snapshot, true).decision, 'bad_request');
});

t.test('the method reaches the policy: a route limited to GET judges HEAD like GET and refuses POST', async (t) => {
  const getOnly = { policy: compilePolicy({ routes: [{ path: '/', methods: ['GET'], allow: 'any-verified' }] }, null) };
  t.equal(judgeRequest(h1('/x', { method: 'GET' }), bob, getOnly, false).decision, 'allow');
  t.equal(judgeRequest(h1('/x', { method: 'HEAD' }), bob, getOnly, false).decision, 'allow');
  t.same(judgeRequest(h1('/x', { method: 'POST' }), bob, getOnly, false), {
    decision: 'deny',
    path: '/x',
    route: 'default',
    rule: null,
    refusal: 'no_default',
  });
});
