// Parses and validates a per-route policy file (YAML or JSON, README "Per-route policy") into a PolicyDoc, reporting
// every problem at once.
import { METHODS } from 'node:http';
import { parseYamlDocument } from '../config/yaml.js';
import { ConfigError } from '../errors.js';
import { normalizePath } from '../http/normalize-path.js';
import { compileAllowRules, RULE_KEYS, type AllowRule, type AllowSpec } from './allow-rules.js';
import { DEFAULT_ALIASES, type AliasOptions } from './route-aliases.js';

export interface PolicyRoute {
  /** Normalized path prefix; a trailing `*` makes it a raw string prefix. */
  path: string;
  /** Upper-cased, de-duplicated; absent means every method. */
  methods?: string[];
  allow: AllowSpec;
}

export interface PolicyDoc {
  routes: PolicyRoute[];
  default?: { allow: AllowSpec };
  /** Which other spellings of a path are judged too (route-aliases.ts); absent means DEFAULT_ALIASES. */
  aliases?: AliasOptions;
}

const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);
const MAX_ROUTES = 1000;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.push(`${at}.${key}: unknown key (allowed here: ${allowed.join(', ')})`);
  }
}

/** Validates an `allow` value; structure here, rule values via the same compiler the proxy uses. */
function readAllow(v: unknown, at: string, problems: string[]): AllowSpec | null {
  if (v === 'any-verified') return 'any-verified';
  if (typeof v === 'string') {
    problems.push(`${at}: "${v}" is not understood (write "any-verified" or a list of rules such as "- cn: orders")`);
    return null;
  }
  if (!Array.isArray(v)) {
    problems.push(`${at}: must be "any-verified" or a list of rules, got ${typeName(v)}`);
    return null;
  }
  const rules: AllowRule[] = [];
  let shapeOk = true;
  v.forEach((rule: unknown, i) => {
    if (!isMapping(rule)) {
      problems.push(
        `${at}[${i}]: must be a mapping of rule keys such as "{ cn: orders, o: Acme }", got ${typeName(rule)}`,
      );
      shapeOk = false;
      return;
    }
    const before = problems.length;
    checkKeys(rule, RULE_KEYS, `${at}[${i}]`, problems);
    if (Object.keys(rule).length === 0)
      problems.push(`${at}[${i}]: empty rule (give at least one of ${RULE_KEYS.join(', ')})`);
    if (problems.length > before) shapeOk = false;
    rules.push(rule as AllowRule);
  });
  if (!shapeOk) return null;
  try {
    compileAllowRules(rules, at);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return null;
  }
  return rules;
}

function readPath(v: unknown, at: string, problems: string[]): string | null {
  if (typeof v !== 'string') {
    problems.push(`${at}: must be a string starting with "/", got ${typeName(v)}`);
    return null;
  }
  if (!v.startsWith('/')) {
    problems.push(`${at}: "${v}" must start with "/" (e.g. "/${v}")`);
    return null;
  }
  const raw = v.endsWith('*') ? v.slice(0, -1) : v;
  if (raw.includes('*')) {
    problems.push(`${at}: "*" is only allowed at the very end (raw string prefix, e.g. "/admin*")`);
    return null;
  }
  if (raw.includes('?')) {
    problems.push(`${at}: a route path cannot contain a query ("?"); policy judges the path only`);
    return null;
  }
  const norm = normalizePath(raw);
  if (!norm.ok) {
    problems.push(`${at}: "${v}" could never match a request: ${norm.reason}`);
    return null;
  }
  if (norm.path !== raw) {
    problems.push(
      `${at}: "${v}" is not in normalized form, so it would never match; write "${norm.path}${v.endsWith('*') ? '*' : ''}"`,
    );
    return null;
  }
  return v;
}

function readMethods(v: unknown, at: string, problems: string[]): string[] | undefined | null {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) {
    problems.push(`${at}: must be a non-empty list such as [GET, POST] (omit it to match every method)`);
    return null;
  }
  const out: string[] = [];
  let ok = true;
  v.forEach((m: unknown, i) => {
    const upper = typeof m === 'string' ? m.toUpperCase() : '';
    if (!KNOWN_METHODS.has(upper)) {
      problems.push(`${at}[${i}]: ${typeName(m)} is not an HTTP method (e.g. GET, POST, PUT, DELETE, PATCH)`);
      ok = false;
    } else if (!out.includes(upper)) {
      out.push(upper);
    }
  });
  return ok ? out : null;
}

function readRoute(v: unknown, at: string, problems: string[]): PolicyRoute | null {
  if (!isMapping(v)) {
    problems.push(`${at}: must be a mapping with "path" and "allow" (and optional "methods"), got ${typeName(v)}`);
    return null;
  }
  checkKeys(v, ['path', 'methods', 'allow'], at, problems);
  if (!('path' in v)) problems.push(`${at}: missing "path" (e.g. "path: /admin")`);
  if (!('allow' in v)) problems.push(`${at}: missing "allow" (a list of rules or "any-verified")`);
  const path = 'path' in v ? readPath(v.path, `${at}.path`, problems) : null;
  const methods = readMethods(v.methods, `${at}.methods`, problems);
  const allow = 'allow' in v ? readAllow(v.allow, `${at}.allow`, problems) : null;
  if (path === null || methods === null || allow === null) return null;
  return methods === undefined ? { path, allow } : { path, methods, allow };
}

const ALIAS_KEYS = {
  'format-suffix': 'formatSuffix',
  'ignore-case': 'ignoreCase',
  'trailing-slash': 'trailingSlash',
} as const;

/**
 * `aliases: { format-suffix: bool, ignore-case: bool, trailing-slash: bool }`; a key left out keeps its default (on).
 */
function readAliases(v: unknown, at: string, problems: string[]): AliasOptions | null {
  if (!isMapping(v)) {
    problems.push(`${at}: must be a mapping such as "{ format-suffix: true, ignore-case: true }", got ${typeName(v)}`);
    return null;
  }
  checkKeys(v, Object.keys(ALIAS_KEYS), at, problems);
  const out: AliasOptions = { ...DEFAULT_ALIASES };
  for (const [key, field] of Object.entries(ALIAS_KEYS)) {
    if (!(key in v)) continue;
    const value = v[key];
    if (typeof value === 'boolean') out[field] = value;
    else problems.push(`${at}.${key}: must be true or false, got ${typeName(value)}`);
  }
  return out;
}

/** Parses policy text (YAML or JSON); `file` only names the source in messages. Throws ConfigError. */
export function parsePolicyFile(text: string, file: string): PolicyDoc {
  const doc = parseYamlDocument(text);
  if (doc.errors.length > 0) {
    // Only the first: later syntax errors are usually echoes of it.
    const first = (doc.errors[0]?.message ?? '').split('\n')[0]?.replace(/:$/, '');
    throw new ConfigError([`${file}: ${first} (fix the YAML/JSON syntax)`]);
  }
  const root: unknown = doc.toJS({ maxAliasCount: 50 });
  const problems: string[] = [];
  if (!isMapping(root)) {
    throw new ConfigError([
      `${file}: must be a mapping with "routes" and/or "default", got ${root == null ? 'an empty file' : typeName(root)}`,
    ]);
  }
  for (const key of Object.keys(root)) {
    if (key !== 'routes' && key !== 'default' && key !== 'aliases')
      problems.push(`${file}: ${key}: unknown key (allowed here: routes, default, aliases)`);
  }
  if (!('routes' in root) && !('default' in root)) {
    problems.push(`${file}: has neither "routes" nor "default" (see the policy example in the documentation)`);
  }
  const routes: PolicyRoute[] = [];
  if ('routes' in root) {
    if (!Array.isArray(root.routes)) {
      problems.push(`${file}: routes: must be a list of { path, methods?, allow }, got ${typeName(root.routes)}`);
    } else if (root.routes.length > MAX_ROUTES) {
      problems.push(
        `${file}: routes: ${root.routes.length} routes is more than the ${MAX_ROUTES} supported; use "*" prefixes to combine them`,
      );
    } else {
      root.routes.forEach((r: unknown, i) => {
        const route = readRoute(r, `${file}: routes[${i}]`, problems);
        if (route) routes.push(route);
      });
    }
  }
  let dflt: { allow: AllowSpec } | undefined;
  if ('default' in root) {
    const d = root.default;
    if (!isMapping(d)) {
      problems.push(`${file}: default: must be a mapping with "allow", got ${typeName(d)}`);
    } else {
      checkKeys(d, ['allow'], `${file}: default`, problems);
      if (!('allow' in d)) problems.push(`${file}: default: missing "allow" (a list of rules or "any-verified")`);
      else {
        const allow = readAllow(d.allow, `${file}: default.allow`, problems);
        if (allow) dflt = { allow };
      }
    }
  }
  const aliases = 'aliases' in root ? readAliases(root.aliases, `${file}: aliases`, problems) : null;
  if (problems.length > 0) throw new ConfigError(problems);
  const parsed: PolicyDoc = dflt ? { routes, default: dflt } : { routes };
  if (aliases) parsed.aliases = aliases;
  return parsed;
}
