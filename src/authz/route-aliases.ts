// The spellings of a request path that common upstream routers send to the same handler as another path, so that the
// policy can judge a request as every handler it may reach.
//
// Decisions (issue 15):
// - Format suffixes: Grape (any extension without a `format`), Rails `(.:format)`, Django REST framework's
//   format_suffix_patterns and Spring's suffix pattern matching run the `/admin` handler for `/admin.json`,
//   `/admin.json/` and `/admin.tar.gz`. So the final segment is also read cut at each `.` that does not follow another
//   `.`: `/a/admin.v2.json/` is also `/a/admin` and `/a/admin.v2`. A segment that starts with a dot leaves its parent
//   with a trailing slash (`/admin/.json` → `/admin/`). Each cut is read with a trailing slash too, because Django REST
//   framework serves `/users.json` from the `users/` pattern (a route `/users/` must cover it). Cutting at a dot also
//   covers the trailing dot that Windows-based servers drop (`/admin.` → `/admin`).
// - Case: Express (by default) and ASP.NET match routes without regard to ASCII case, so `/ADMIN` is also `/admin`.
//   Only ASCII letters fold: no Unicode case mapping, which would let look-alikes in.
// - Trailing slash: Express (non-strict routing, its default), Spring before 6 and ASP.NET serve `/admin` from an
//   `/admin/` route, so a path without a trailing slash is also read with one (a route `/admin/` covers `/admin`).
// - Only the final segment: no router listed takes a format suffix from an inner segment (`/admin.json/x`).

export interface AliasOptions {
  /** Judge `/x.ext` (and `/x.ext/`) as `/x` too. */
  formatSuffix: boolean;
  /** Judge a path as its ASCII lower-case form too, against lower-cased route paths. */
  ignoreCase: boolean;
  /** Judge `/x` as `/x/` too. */
  trailingSlash: boolean;
}

export const DEFAULT_ALIASES: AliasOptions = Object.freeze({
  formatSuffix: true,
  ignoreCase: true,
  trailingSlash: true,
});

/**
 * One reading of a request path: the path to match routes against, and whether route paths are compared lower-cased.
 */
export interface PathReading {
  path: string;
  folded: boolean;
}

/** ASCII-only lower case; returns `s` itself when it has no upper-case ASCII letter. */
export function foldAsciiCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

/**
 * The paths a format-suffix router also reads `path` as (not `path` itself): each cut, then it with a trailing slash.
 */
export function formatSuffixAliases(path: string): string[] {
  const end = path.length > 1 && path.endsWith('/') ? path.length - 1 : path.length;
  const start = path.lastIndexOf('/', end - 1) + 1;
  const aliases: string[] = [];
  for (let i = path.indexOf('.', start); i !== -1 && i < end; i = path.indexOf('.', i + 1)) {
    if (i > start && path.charCodeAt(i - 1) === 0x2e) continue;
    const cut = path.slice(0, i);
    aliases.push(cut);
    if (!cut.endsWith('/')) aliases.push(`${cut}/`);
  }
  return aliases;
}

/**
 * Every reading of a normalized path the policy must judge: the path itself first, then it with a trailing slash and
 * its format-suffix aliases,
 * then (with ignoreCase) the lower-cased path and its aliases, for routes compared lower-cased. `routesHaveUpperCase`
 * says whether any route path has an upper-case letter: when neither the path nor a route has one, the lower-cased
 * readings repeat the literal ones and are left out.
 */
export function pathReadings(path: string, options: AliasOptions, routesHaveUpperCase: boolean): PathReading[] {
  const readings: PathReading[] = [];
  const addReadings = (p: string, folded: boolean): void => {
    readings.push({ path: p, folded });
    if (options.trailingSlash && !p.endsWith('/')) readings.push({ path: `${p}/`, folded });
    if (options.formatSuffix) for (const alias of formatSuffixAliases(p)) readings.push({ path: alias, folded });
  };
  addReadings(path, false);
  if (!options.ignoreCase) return readings;
  const lower = foldAsciiCase(path);
  if (lower === path && !routesHaveUpperCase) return readings;
  addReadings(lower, true);
  return readings;
}
