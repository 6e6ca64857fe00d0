// Compiles the per-route policy and the `--allow-*` flags into one decision function over (method, normalized path,
// identity).
//
// Decisions:
// - Routes are tried in order; the first whose path and methods match decides, even when it refuses.
// - Path prefixes respect segments: `/admin` matches `/admin`, `/admin/` and `/admin/x`, not `/administrator`;
//   `/admin/` matches `/admin/…` but not `/admin`; a trailing `*` is a raw string prefix (`/admin*`).
//   Comparison is case-sensitive, on the normalized path (normalize-path.ts).
// - A request is admitted only if every reading of its path (route-aliases.ts: `/admin.json` is also `/admin`, `/ADMIN`
//   also `/admin`) is admitted, each decided by the routes as above: an upstream router may run any of those handlers.
//   Judging more readings can only refuse more than judging the literal path, so no alias can widen a route's reach.
// - Methods compare upper-cased. A route listing GET also matches HEAD: common upstream frameworks (fastify,
//   express, Go's mux) run the GET handler for HEAD, so HEAD must be judged by the same route as GET.
// - `default` from the file, else from the flags; giving both is a ConfigError. With a policy file and neither,
//   requests matching no route are refused (fail closed). `allow: []` refuses everyone on that route.
// - A configuration under which no request could ever be admitted is a ConfigError, as is having no rules at all.
import { ConfigError } from '../errors.js';
import type { Identity } from '../identity/types.js';
import { compileAllowRules, FLAGS_WHERE, type AllowSpec, type Matcher } from './allow-rules.js';
import type { TrustedIssuers } from './issuer-scope.js';
import type { PolicyDoc } from './policy-file.js';
import { DEFAULT_ALIASES, foldAsciiCase, pathReadings, type AliasOptions, type PathReading } from './route-aliases.js';

export interface Decision {
  allowed: boolean;
  /** e.g. 'routes[0] /admin' or 'default' */
  route: string;
  /** admitting rule label */
  rule: string | null;
  /** Why nobody was admitted (a fixed word, never policy contents); absent when allowed. */
  refusal?: Refusal;
}

/**
 * `no_rule_matched`: the deciding route (or default) has rules, none admits this caller; `route_allows_nobody`: it is
 * `allow: []`; `no_default`: no route matched and there is no default (neither `default:` nor `--allow-*` flags).
 */
export type Refusal = 'no_rule_matched' | 'route_allows_nobody' | 'no_default';

export interface CompiledPolicy {
  decide(method: string, normalizedPath: string, id: Identity): Decision;
  /** Human-readable lines for `check` and start-up logs (rule labels only, never identities). */
  describe(): string[];
}

interface CompiledRoute {
  name: string;
  matchesPath: (path: string) => boolean;
  /** The same test against the lower-cased route path, for lower-cased readings. */
  matchesFolded: (path: string) => boolean;
  methods: ReadonlySet<string> | null;
  matcher: Matcher;
  line: string;
  /** What a refusal by this route is called. */
  refusal: Refusal;
}

/** Builds the segment-respecting (or, with a trailing `*`, raw) prefix test for a route path. */
export function compilePathPrefix(path: string): (p: string) => boolean {
  if (path.endsWith('*')) {
    const raw = path.slice(0, -1);
    return (p) => p.startsWith(raw);
  }
  if (path.endsWith('/')) return (p) => p.startsWith(path);
  const withSlash = path + '/';
  return (p) => p === path || p.startsWith(withSlash);
}

function describeAllow(labels: string[], spec: AllowSpec): string {
  if (spec !== 'any-verified' && labels.length === 0) return 'nobody (empty allow list)';
  return labels.join(' | ');
}

function describeAliases(a: AliasOptions): string {
  const on = [
    a.formatSuffix ? 'format suffixes (/x.json is also /x)' : '',
    a.ignoreCase ? 'ASCII case (/X is also /x)' : '',
    a.trailingSlash ? 'a trailing slash (/x is also /x/)' : '',
  ].filter((s) => s !== '');
  return `paths also judged as: ${on.length > 0 ? on.join(', ') : 'nothing else (aliases off)'}`;
}

/**
 * Compiles a policy document and/or the flags' allow spec; throws ConfigError listing every problem. `trust` (the
 * loaded client CAs) scopes serial rules to an issuer; see compileAllowRules.
 */
export function compilePolicy(
  doc: PolicyDoc | null,
  flagSpec: AllowSpec | null,
  file = 'policy',
  trust?: TrustedIssuers,
): CompiledPolicy {
  if (doc === null && flagSpec === null) {
    throw new ConfigError([
      'no allow rule: give --allow-cn/--allow-uri/… rules, a --policy file, or --allow-any-verified (an empty allowlist never means "everyone")',
    ]);
  }
  if (doc?.default && flagSpec !== null) {
    throw new ConfigError([
      `${file}: default: and the --allow-* flags both define who is admitted when no route matches; pick one (remove "default:" from ${file} or drop the --allow-* flags)`,
    ]);
  }
  const problems: string[] = [];
  let admitsSomeone = false;
  const compile = (spec: AllowSpec, where: string): { matcher: Matcher; text: string; refusal: Refusal } | null => {
    try {
      const c = compileAllowRules(spec, where, trust);
      if (c.labels.length > 0) admitsSomeone = true;
      return {
        matcher: c.matcher,
        text: describeAllow(c.labels, spec),
        refusal: c.labels.length > 0 ? 'no_rule_matched' : 'route_allows_nobody',
      };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return null;
    }
  };

  const routes: CompiledRoute[] = [];
  (doc?.routes ?? []).forEach((r, i) => {
    const c = compile(r.allow, `${file}: routes[${i}].allow`);
    if (!c) return;
    const methods = r.methods ? new Set(r.methods.map((m) => m.toUpperCase())) : null;
    if (methods?.has('GET')) methods.add('HEAD');
    const name = `routes[${i}] ${r.path}`;
    const methodText = r.methods ? ` [${r.methods.join(', ')}]` : '';
    routes.push({
      name,
      matchesPath: compilePathPrefix(r.path),
      matchesFolded: compilePathPrefix(foldAsciiCase(r.path)),
      methods,
      matcher: c.matcher,
      line: `${name}${methodText}: ${c.text}`,
      refusal: c.refusal,
    });
  });

  let dflt: { matcher: Matcher; line: string; refusal: Refusal };
  const fileDefault = doc?.default;
  if (fileDefault) {
    const c = compile(fileDefault.allow, `${file}: default.allow`);
    dflt = {
      matcher: c?.matcher ?? (() => null),
      line: `default: ${c?.text ?? ''}`,
      refusal: c?.refusal ?? 'no_rule_matched',
    };
  } else if (flagSpec !== null) {
    const c = compile(flagSpec, FLAGS_WHERE);
    dflt = {
      matcher: c?.matcher ?? (() => null),
      line: `default (from --allow-* flags): ${c?.text ?? ''}`,
      refusal: c?.refusal ?? 'no_rule_matched',
    };
  } else {
    dflt = {
      matcher: () => null,
      line: 'default: nobody (no "default:" in the policy and no --allow-* flags; unmatched requests are refused)',
      refusal: 'no_default',
    };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (!admitsSomeone) {
    throw new ConfigError([
      `${doc ? file : '--allow-*'}: no route and no default admits anyone, so every request would be refused; add rules to a route's "allow" or a "default"`,
    ]);
  }

  const aliases = doc?.aliases ?? DEFAULT_ALIASES;
  const routesHaveUpperCase = (doc?.routes ?? []).some((r) => foldAsciiCase(r.path) !== r.path);
  const decideReading = (m: string, reading: PathReading, id: Identity): Decision => {
    for (const route of routes) {
      if (!(reading.folded ? route.matchesFolded(reading.path) : route.matchesPath(reading.path))) continue;
      if (route.methods && !route.methods.has(m)) continue;
      const rule = route.matcher(id);
      return rule !== null
        ? { allowed: true, route: route.name, rule }
        : { allowed: false, route: route.name, rule, refusal: route.refusal };
    }
    const rule = dflt.matcher(id);
    return rule !== null
      ? { allowed: true, route: 'default', rule }
      : { allowed: false, route: 'default', rule, refusal: dflt.refusal };
  };

  return {
    decide(method: string, normalizedPath: string, id: Identity): Decision {
      const m = method.toUpperCase();
      const literal = decideReading(m, { path: normalizedPath, folded: false }, id);
      if (!literal.allowed || routes.length === 0) return literal;
      const readings = pathReadings(normalizedPath, aliases, routesHaveUpperCase);
      for (let i = 1; i < readings.length; i++) {
        const d = decideReading(m, readings[i] as PathReading, id);
        if (!d.allowed) return d;
      }
      return literal;
    },
    describe(): string[] {
      return [...routes.map((r) => r.line), dflt.line, ...(routes.length > 0 ? [describeAliases(aliases)] : [])];
    },
  };
}
