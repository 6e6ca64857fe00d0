// Given a configuration, `inspect` says which --allow-* rules or which policy routes admit the certificate, rule by
// rule, and refuses a configuration `run` would refuse.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';
import { readOpensslCert } from '../containment/helpers/openssl-fields.js';

interface RouteResult {
  route: string;
  methods: string[] | null;
  rules: string[];
  admittedBy: string[];
  admitted: boolean;
}

interface InspectJson {
  authorization: { source: string; policyFile: string | null; issuedByClientCa: string | null; routes: RouteResult[] };
}

const POLICY = `
routes:
  - path: /admin
    methods: [GET, POST]
    allow:
      - uri: spiffe://example.org/ns/ops/sa/console
  - path: /healthz
    allow: any-verified
  - path: /orders
    allow:
      - { cn: orders, o: "Acme, Inc." }
      - uri: spiffe://example.org/ns/prod/*
      - cn: someone-else
default:
  allow:
    - dns: "*.example.org"
`;

t.test('inspect with a configuration', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-inspect-config-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca', { subject: '/O=Acme, Inc./CN=Clients CA' });
  const otherCa = makeCa(dir, 'other-ca', { subject: '/CN=Other CA' });
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
  const client = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme, Inc./CN=orders',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders', 'DNS:orders.example.org'],
  });
  const outsider = makeLeaf(dir, 'outsider', otherCa, { subject: '/CN=outsider' });
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY);
  const base = ['--upstream', 'http://127.0.0.1:9', '--cert', server.cert, '--key', server.key, '--client-ca', ca.cert];
  const inspect = (file: string, args: string[]): InspectJson => {
    const result = runCli(['inspect', '--json', file, ...base, ...args]);
    t.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as InspectJson;
  };

  t.test('--allow-* flags: every matching rule is named', async (t) => {
    const report = inspect(client.cert, [
      '--allow-cn',
      'orders',
      '--allow-uri',
      'spiffe://example.org/ns/ops/*',
      '--allow-dns',
      '*.example.org',
    ]);
    t.equal(report.authorization.source, 'flags');
    t.equal(report.authorization.issuedByClientCa, readOpensslCert(ca.cert).subject, 'issued by the configured CA');
    t.same(report.authorization.routes, [
      {
        route: 'default (from --allow-* flags)',
        methods: null,
        rules: ['cn=orders', 'dns=*.example.org', 'uri=spiffe://example.org/ns/ops/*'],
        admittedBy: ['cn=orders', 'dns=*.example.org'],
        admitted: true,
      },
    ]);
  });

  t.test('--allow-* flags: refused, and not from a configured CA', async (t) => {
    const report = inspect(outsider.cert, ['--allow-cn', 'orders']);
    t.equal(report.authorization.issuedByClientCa, null);
    t.same(
      report.authorization.routes.map((r) => [r.route, r.admitted, r.admittedBy]),
      [['default (from --allow-* flags)', false, []]],
    );
  });

  t.test('policy file: per route, admitted by which rule or refused', async (t) => {
    const report = inspect(client.cert, ['--policy', policy]);
    t.equal(report.authorization.source, 'policy');
    t.equal(report.authorization.policyFile, policy);
    t.same(report.authorization.routes, [
      {
        route: 'routes[0] /admin',
        methods: ['GET', 'POST'],
        rules: ['uri=spiffe://example.org/ns/ops/sa/console'],
        admittedBy: [],
        admitted: false,
      },
      {
        route: 'routes[1] /healthz',
        methods: null,
        rules: ['any-verified'],
        admittedBy: ['any-verified'],
        admitted: true,
      },
      {
        route: 'routes[2] /orders',
        methods: null,
        rules: ['cn=orders,o=Acme, Inc.', 'uri=spiffe://example.org/ns/prod/*', 'cn=someone-else'],
        admittedBy: ['cn=orders,o=Acme, Inc.', 'uri=spiffe://example.org/ns/prod/*'],
        admitted: true,
      },
      {
        route: 'default',
        methods: null,
        rules: ['dns=*.example.org'],
        admittedBy: ['dns=*.example.org'],
        admitted: true,
      },
    ]);
  });

  t.test('the text form says the same', async (t) => {
    const result = runCli(['inspect', client.cert, ...base, '--policy', policy]);
    t.equal(result.status, 0);
    t.match(result.stdout, /routes\[0\] \/admin \[GET, POST\]: REFUSED/);
    t.match(
      result.stdout,
      /routes\[2\] \/orders: ADMITTED by cn=orders,o=Acme, Inc\. \| uri=spiffe:\/\/example\.org\/ns\/prod\/\*/,
    );
  });

  t.test('a configuration run refuses is refused here too (78)', async (t) => {
    const result = runCli(['inspect', client.cert, ...base, '--policy', policy, '--allow-cn', 'orders']);
    t.equal(result.status, 78);
    t.match(result.stderr, /pick one/);
    t.equal(result.stdout, '');
  });
});
