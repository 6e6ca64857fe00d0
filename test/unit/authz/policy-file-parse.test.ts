// parsePolicyFile reads the README policy example in YAML and JSON, and refuses malformed files naming the key and a
// fix.
import t from 'tap';
import { parsePolicyFile } from '../../../src/authz/policy-file.js';
import { ConfigError } from '../../../src/errors.js';

const EXAMPLE = `
routes:
  - path: /admin
    methods: [GET, post]
    allow:
      - uri: spiffe://example.org/ns/ops/sa/console
  - path: /healthz
    allow: any-verified
default:
  allow:
    - { cn: orders, o: Acme }
    - uri: spiffe://example.org/ns/prod/*
`;

const EXPECTED = {
  routes: [
    { path: '/admin', methods: ['GET', 'POST'], allow: [{ uri: 'spiffe://example.org/ns/ops/sa/console' }] },
    { path: '/healthz', allow: 'any-verified' },
  ],
  default: { allow: [{ cn: 'orders', o: 'Acme' }, { uri: 'spiffe://example.org/ns/prod/*' }] },
};

t.same(parsePolicyFile(EXAMPLE, 'policy.yaml'), EXPECTED, 'YAML example from the README');
t.same(
  parsePolicyFile(
    JSON.stringify({ ...EXPECTED, routes: [{ ...EXPECTED.routes[0], methods: ['GET', 'post'] }, EXPECTED.routes[1]] }),
    'policy.json',
  ),
  EXPECTED,
  'the same policy as JSON',
);
t.same(
  parsePolicyFile(
    'routes:\n  - {path: /x, allow: []}\n  - {path: "/api*", allow: [{dns: "*.example.org"}]}\n',
    'p.yaml',
  ),
  {
    routes: [
      { path: '/x', allow: [] },
      { path: '/api*', allow: [{ dns: '*.example.org' }] },
    ],
  },
);

const bad: [text: string, problems: RegExp[]][] = [
  ['', [/^p\.yaml: must be a mapping .* an empty file/]],
  ['[1, 2]', [/^p\.yaml: must be a mapping/]],
  ['routes: [\n', [/^p\.yaml: .*\(fix the YAML\/JSON syntax\)/]],
  ['{"routes": [}', [/^p\.yaml: .*syntax/]],
  ['default: {allow: any-verified}\ndefault: {allow: any-verified}', [/unique/i]],
  [
    'rutes: []',
    [/^p\.yaml: rutes: unknown key \(allowed here: routes, default, aliases\)/, /neither "routes" nor "default"/],
  ],
  ['routes: {path: /x}', [/^p\.yaml: routes: must be a list/]],
  [
    'routes:\n  - {path: /a, allow: any-verified}\n  - {path: /b, allow: any-verified}\n  - {path: /c, allow: [{cnn: orders}]}',
    [
      /^p\.yaml: routes\[2\]\.allow\[0\]\.cnn: unknown key \(allowed here: cn, ou, o, email, dns, uri, subject, serial, fingerprint, issuer\)/,
    ],
  ],
  [
    'routes:\n  - {path: admin, allow: any-verified}',
    [/^p\.yaml: routes\[0\]\.path: "admin" must start with "\/" \(e\.g\. "\/admin"\)/],
  ],
  ['routes:\n  - {path: 7, allow: any-verified}', [/routes\[0\]\.path: must be a string/]],
  ['routes:\n  - {path: /a/../b, allow: any-verified}', [/routes\[0\]\.path: .*not in normalized form.*write "\/b"/]],
  ['routes:\n  - {path: "//a", allow: any-verified}', [/write "\/a"/]],
  ['routes:\n  - {path: "/%61dmin*", allow: any-verified}', [/write "\/admin\*"/]],
  ['routes:\n  - {path: "/a;b", allow: any-verified}', [/could never match.*";"/]],
  ['routes:\n  - {path: "/a*b", allow: any-verified}', [/"\*" is only allowed at the very end/]],
  ['routes:\n  - {path: "/a?x=1", allow: any-verified}', [/cannot contain a query/]],
  [
    'routes:\n  - {path: /a, methods: [GET, FETCH], allow: any-verified}',
    [/routes\[0\]\.methods\[1\]: string "FETCH" is not an HTTP method/],
  ],
  ['routes:\n  - {path: /a, methods: [], allow: any-verified}', [/routes\[0\]\.methods: must be a non-empty list/]],
  ['routes:\n  - {path: /a, methods: GET, allow: any-verified}', [/routes\[0\]\.methods: must be a non-empty list/]],
  ['routes:\n  - {path: /a}', [/routes\[0\]: missing "allow"/]],
  ['routes:\n  - {allow: any-verified}', [/routes\[0\]: missing "path"/]],
  [
    'routes:\n  - {path: /a, allow: any-verified, method: [GET]}',
    [/routes\[0\]\.method: unknown key \(allowed here: path, methods, allow\)/],
  ],
  ['routes:\n  - {path: /a, allow: anyone}', [/routes\[0\]\.allow: "anyone" is not understood/]],
  [
    'routes:\n  - {path: /a, allow: {cn: x}}',
    [/routes\[0\]\.allow: must be "any-verified" or a list of rules, got a mapping/],
  ],
  ['routes:\n  - {path: /a, allow: [orders]}', [/routes\[0\]\.allow\[0\]: must be a mapping of rule keys/]],
  ['routes:\n  - {path: /a, allow: [{}]}', [/routes\[0\]\.allow\[0\]: empty rule/]],
  [
    'routes:\n  - {path: /a, allow: [{serial: 0123}]}',
    [/routes\[0\]\.allow\[0\]\.serial: must be a string, got number \(quote it\)/],
  ],
  [
    'routes:\n  - {path: /a, allow: [{fingerprint: abc}]}',
    [/routes\[0\]\.allow\[0\]\.fingerprint: is not a SHA-256 fingerprint/],
  ],
  ['routes: []\ndefault: any-verified', [/^p\.yaml: default: must be a mapping with "allow"/]],
  ['default: {}', [/default: missing "allow"/]],
  [
    'default: {allow: [{dns: "a.*.org"}], deny: []}',
    [/default\.deny: unknown key/, /default\.allow\[0\]\.dns: "\*" is only allowed/],
  ],
  [
    'routes:\n  - {path: x, allow: [{cnn: a}]}\n  - {path: /b, methods: [FOO], allow: []}\ndefault: {allow: [{uri: "x*"}]}',
    [/routes\[0\]\.path/, /routes\[0\]\.allow\[0\]\.cnn/, /routes\[1\]\.methods\[0\]/, /default\.allow\[0\]\.uri/],
  ],
];

for (const [text, problems] of bad) {
  t.test(`refuses ${JSON.stringify(text)}`, async (t) => {
    const err = t.throws(() => parsePolicyFile(text, 'p.yaml')) as ConfigError;
    t.ok(err instanceof ConfigError, 'ConfigError');
    t.equal(err.problems.length, problems.length, err.problems.join('\n'));
    problems.forEach((re, i) => t.match(err.problems[i], re));
  });
}
