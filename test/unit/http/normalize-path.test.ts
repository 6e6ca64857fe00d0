// normalizePath: every known path-confusion spelling is either canonicalized to the path policy judges or refused.
import t from 'tap';
import { normalizePath } from '../../../src/http/normalize-path.js';

const accepted: [target: string, path: string, query: string][] = [
  ['/', '/', ''],
  ['/admin', '/admin', ''],
  ['/admin/', '/admin/', ''],
  ['//admin', '/admin', ''],
  ['///admin//x//', '/admin/x/', ''],
  ['/./admin', '/admin', ''],
  ['/admin/.', '/admin/', ''],
  ['/x/../admin', '/admin', ''],
  ['/admin/../admin', '/admin', ''],
  ['/a/b/..', '/a/', ''],
  ['/a/..', '/', ''],
  ['/%61dmin', '/admin', ''],
  ['/%61%64%6D%69%6e', '/admin', ''],
  ['/%41DMIN', '/ADMIN', ''], // %41 is "A": letters keep their case, and /ADMIN is a different path
  ['/ADMIN', '/ADMIN', ''],
  ['/a%2Db%5Fc%7Ed%2Ee', '/a-b_c~d.e', ''],
  ['/%2efoo', '/.foo', ''], // an encoded dot inside a longer segment is just a character
  ['/a%3fb', '/a%3Fb', ''], // reserved escapes stay encoded, hex upper-cased
  ['/a%c3%a9', '/a%C3%A9', ''],
  ['/a%20b', '/a%20b', ''],
  ['/a%2525', '/a%2525', ''], // an encoded "%" followed by something harmless is data
  ["/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,=", ''],
  ['/..foo/x', '/..foo/x', ''],
  ['/admin?x=%2F&y=..%2f;#a\\b', '/admin', '?x=%2F&y=..%2f;#a\\b'],
  ['/a//b?', '/a/b', '?'],
  ['/x/../admin?q=/../', '/admin', '?q=/../'],
];

for (const [target, path, query] of accepted) {
  t.same(normalizePath(target), { ok: true, path, query }, `accepts ${JSON.stringify(target)} as ${path}`);
}

const refused: [target: string, why: RegExp][] = [
  ['', /origin-form/],
  ['*', /origin-form/],
  ['admin', /origin-form/],
  ['http://example.org/admin', /origin-form/],
  ['/admin%2fx', /encoded "\/"/],
  ['/admin%2Fx', /encoded "\/"/],
  ['/admin%5cx', /encoded "\\"/],
  ['/admin%5Cx', /encoded "\\"/],
  ['/admin\\x', /backslash/],
  ['/%00', /NUL/],
  ['/a\u0000b', /NUL/],
  ['/a%0ab', /control/],
  ['/a%7Fb', /control/],
  ['/a\tb', /control/],
  ['/a\u007fb', /control/],
  ['/a b', /space/],
  ['/caf\u00e9', /non-ASCII/],
  ['/\u212admin', /non-ASCII/],
  ['/a%zz', /malformed/],
  ['/a%4', /malformed/],
  ['/a%', /malformed/],
  ['/a%%41', /malformed/],
  ['/../x', /root/],
  ['/..', /root/],
  ['/a/../../x', /root/],
  ['/./../x', /root/],
  ['/%2e%2e/admin', /encoded dot/],
  ['/%2E%2E/admin', /encoded dot/],
  ['/.%2e/admin', /encoded dot/],
  ['/%2e./admin', /encoded dot/],
  ['/x/%2e/admin', /encoded dot/],
  ['/x/%2e%2e', /encoded dot/],
  ['/admin/..;/', /";"/],
  ['/..;/admin', /";"/],
  ['/.;/admin', /";"/],
  ['/x/..;jsessionid=1/admin', /";"/],
  ['/admin;x', /";"/],
  ['/admin;jsessionid=abc', /";"/],
  ['/admin%3bx', /";"/],
  ['/admin%3Bx', /";"/],
  ['/admin#frag', /"#"/],
  ['/%252e%252e/admin', /double-encoded/],
  ['/admin%252fx', /double-encoded/],
  ['/admin%255Cx', /double-encoded/],
  ['/a%2500', /double-encoded/],
];

for (const [target, why] of refused) {
  const got = normalizePath(target);
  t.equal(got.ok, false, `refuses ${JSON.stringify(target)}`);
  if (!got.ok) t.match(got.reason, why, `reason for ${JSON.stringify(target)}`);
}

t.test('the query is returned byte-for-byte, including escapes that the path would refuse', async (t) => {
  const q = '?next=%2F..%2Fadmin&a=%00&b=%2e%2e&c=%zz&d=%41';
  t.same(normalizePath('/login' + q), { ok: true, path: '/login', query: q });
});

t.test('normalizing is idempotent on every accepted path', async (t) => {
  for (const [, path] of accepted) t.same(normalizePath(path), { ok: true, path, query: '' }, path);
});
