// The readings of a path that upstream routers send to the same handler: format suffixes on the final segment, ASCII
// case.
import t from 'tap';
import { foldAsciiCase, formatSuffixAliases, pathReadings } from '../../../src/authz/route-aliases.js';

// [path, its format-suffix aliases] — what Grape without `format`, Rails `(.:format)` and Spring suffix matching route
// to.
const suffixCases: Array<[string, string[]]> = [
  ['/admin', []],
  ['/admin/', []],
  ['/', []],
  ['/admin.json', ['/admin', '/admin/']],
  ['/admin.json/', ['/admin', '/admin/']],
  ['/admin.', ['/admin', '/admin/']],
  ['/admin.tar.gz', ['/admin', '/admin/', '/admin.tar', '/admin.tar/']],
  ['/admin..json', ['/admin', '/admin/']],
  ['/api/v1.2/users.json', ['/api/v1.2/users', '/api/v1.2/users/']],
  ['/admin.json/x', []],
  ['/admin/x.json', ['/admin/x', '/admin/x/']],
  ['/admin/.json', ['/admin/']],
  ['/.json', ['/']],
  ['/files/..hidden', ['/files/']],
  ['/pkg.Service/Method', []],
];

for (const [path, aliases] of suffixCases) {
  t.same(formatSuffixAliases(path), aliases, `${path} → ${JSON.stringify(aliases)}`);
}

t.test('ASCII case folding only: no Unicode mapping, escapes fold consistently', async (t) => {
  t.equal(foldAsciiCase('/ADMIN/X'), '/admin/x');
  const same = '/admin';
  t.equal(foldAsciiCase(same), same);
  // U+212A KELVIN SIGN lower-cases to "k" in Unicode; percent-encoded it must stay distinct from /kelvin.
  t.equal(foldAsciiCase('/%E2%84%AAelvin'), '/%e2%84%aaelvin');
  t.equal(foldAsciiCase('/İSTANBUL'), '/İstanbul', 'a non-ASCII capital is left alone');
});

t.test('readings: literal first, suffix aliases, then lower-cased ones only when case can differ', async (t) => {
  const on = { formatSuffix: true, ignoreCase: true, trailingSlash: false };
  t.same(pathReadings('/admin', on, false), [{ path: '/admin', folded: false }]);
  t.same(pathReadings('/admin', on, true), [
    { path: '/admin', folded: false },
    { path: '/admin', folded: true },
  ]);
  t.same(pathReadings('/Admin.JSON', on, false), [
    { path: '/Admin.JSON', folded: false },
    { path: '/Admin', folded: false },
    { path: '/Admin/', folded: false },
    { path: '/admin.json', folded: true },
    { path: '/admin', folded: true },
    { path: '/admin/', folded: true },
  ]);
  t.same(pathReadings('/Admin.JSON', { formatSuffix: false, ignoreCase: true, trailingSlash: false }, false), [
    { path: '/Admin.JSON', folded: false },
    { path: '/admin.json', folded: true },
  ]);
  t.same(pathReadings('/Admin.JSON', { formatSuffix: false, ignoreCase: false, trailingSlash: false }, true), [
    { path: '/Admin.JSON', folded: false },
  ]);
});

t.test(
  'readings: a path without a trailing slash is also read with one (Express, ASP.NET serve /x from /x/)',
  async (t) => {
    const on = { formatSuffix: true, ignoreCase: true, trailingSlash: true };
    t.same(pathReadings('/admin', on, false), [
      { path: '/admin', folded: false },
      { path: '/admin/', folded: false },
    ]);
    t.same(
      pathReadings('/admin/', on, false),
      [{ path: '/admin/', folded: false }],
      'nothing added to a trailing slash',
    );
    t.same(pathReadings('/ADMIN', on, false), [
      { path: '/ADMIN', folded: false },
      { path: '/ADMIN/', folded: false },
      { path: '/admin', folded: true },
      { path: '/admin/', folded: true },
    ]);
  },
);
