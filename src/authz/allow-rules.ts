// Compiles allow rules once at start-up into a matcher that says which rule, if any, admits an identity.
//
// Matching decisions:
// - cn/ou/o/email: exact, case-sensitive, against any decoded value of that kind.
// - subject: the rule is parsed as RFC 4514 (see parse-dn.ts) and compared RDN by RDN, in order, with
//   Identity.subjectRdns: attribute types by OID (so `cn`, `CN` and `2.5.4.3` agree), values exactly;
//   the attributes inside one multi-valued RDN may be written in any order.
// - serial: case, colons and leading zeros are ignored (numeric equality), so `00:0A:1b` matches `0A1B`.
// - fingerprint: SHA-256 only; case, colons and a `sha256:` prefix are ignored.
// - dns: ASCII case-insensitive, one trailing dot ignored; `*.example.org` matches exactly one extra label
//   made of letters, digits, `-` or `_` — not `example.org`, not `a.b.example.org`.
// - uri: exact byte comparison, or `…/*` for a prefix that needs at least one more segment:
//   `spiffe://example.org/ns/prod/*` matches `…/ns/prod/x` and deeper but not `…/ns/prod` nor `…/ns/prod/`.
//   A URI SAN whose remainder has `.`/`..`/empty segments, `\`, `%2F`/`%5C`/`%2E`/`%00`, or bytes outside
//   printable ASCII never matches a prefix rule.
// - issuer: narrows any rule to certificates whose issuer name is this RFC 4514 DN (compared like subject).
//   A serial without an issuer is scoped to the one trusted CA name, and refused when several are trusted.
// An empty rule list admits no one (fail closed).
import { ConfigError } from '../errors.js';
import type { AllowFlags } from '../config/types.js';
import type { Identity } from '../identity/types.js';
import { sameName, scopeBareSerial, splitIssuerFlag, type TrustedIssuers } from './issuer-scope.js';
import { parseDistinguishedName } from './parse-dn.js';
import { uriSanProblem } from '../identity/uri-san.js';

export interface AllowRule {
  cn?: string;
  ou?: string;
  o?: string;
  dns?: string;
  uri?: string;
  email?: string;
  serial?: string;
  fingerprint?: string;
  subject?: string;
  /** Narrows the rule to certificates issued under this RFC 4514 name. */
  issuer?: string;
}
export type AllowSpec = 'any-verified' | AllowRule[];
/** Returns a short, bounded label of the admitting rule, or null when no rule admits the identity. */
export type Matcher = (id: Identity) => string | null;

export type RuleKey = keyof AllowRule;
/** Every rule key, in the order labels are written. */
export const RULE_KEYS: readonly RuleKey[] = [
  'cn',
  'ou',
  'o',
  'email',
  'dns',
  'uri',
  'subject',
  'serial',
  'fingerprint',
  'issuer',
];
/** The keys that have an `--allow-<key>` flag (issuer is written inside a flag value: `issuer=<DN>;<value>`). */
const FLAG_KEYS = RULE_KEYS.filter((k): k is keyof AllowFlags => k !== 'issuer');
/** Pass as `where` to get flag-style problems (`--allow-uri "x": …`) instead of `where[i].uri: …`. */
export const FLAGS_WHERE = '--allow-*';

const LABEL_VALUE_MAX = 80;
type Test = (id: Identity) => boolean;

function asciiLower(s: string): string {
  // Never String#toLowerCase: it folds e.g. KELVIN SIGN (U+212A) to "k", letting a look-alike SAN match.
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function boundLabel(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > LABEL_VALUE_MAX ? printable.slice(0, LABEL_VALUE_MAX - 3) + '...' : printable;
}

function normalizeSerial(s: string): string | null {
  // A leading "-" is kept: non-compliant negative serials exist, and the identity writes them that way.
  const sign = s.startsWith('-') ? '-' : '';
  const hex = s.slice(sign.length).replace(/:/g, '');
  if (!/^[0-9a-fA-F]{1,128}$/.test(hex)) return null;
  return sign + hex.toUpperCase().replace(/^0+(?=.)/, '');
}

function normalizeFingerprint(s: string): string | null {
  const hex = s.replace(/^sha256:/i, '').replace(/:/g, '');
  return /^[0-9a-fA-F]{64}$/.test(hex) ? hex.toLowerCase() : null;
}

function normalizeDns(s: string): string {
  return asciiLower(s.endsWith('.') ? s.slice(0, -1) : s);
}

const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function compileDns(rule: string): Test | string {
  const name = normalizeDns(rule);
  const wildcard = name.startsWith('*.');
  const base = wildcard ? name.slice(2) : name;
  if (base.includes('*')) return '"*" is only allowed as the whole first label ("*.example.org")';
  if (base.length > 253 || !base.split('.').every((l) => DNS_LABEL.test(l))) {
    return 'is not a DNS name (labels of letters, digits, "-" and "_", separated by ".")';
  }
  if (!wildcard) return (id) => id.dns.some((d) => normalizeDns(d) === name);
  const suffix = '.' + base;
  return (id) =>
    id.dns.some((d) => {
      const n = normalizeDns(d);
      return n.endsWith(suffix) && DNS_LABEL.test(n.slice(0, -suffix.length));
    });
}

/** True when the part of a URI SAN under a prefix is plain segments a path normalizer would not rewrite. */
function isPlainRemainder(rest: string): boolean {
  if (rest === '' || /[^\x21-\x7e]|\\|%(2f|5c|2e|00)/i.test(rest)) return false;
  const path = rest.split(/[?#]/, 1)[0] as string;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

function compileUri(rule: string): Test | string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(rule)) return 'is not an absolute URI ("scheme:…", no spaces)';
  if (/[^\x21-\x7e]/.test(rule)) return 'contains bytes outside printable ASCII';
  const star = rule.indexOf('*');
  if (star !== -1 && (star !== rule.length - 1 || !rule.endsWith('/*'))) {
    return '"*" is only allowed as a final "/*" segment ("spiffe://example.org/ns/prod/*")';
  }
  const prefix = star === -1 ? null : rule.slice(0, -1);
  if (prefix !== null && /\/\.{1,2}\/|\/\//.test(prefix.replace(/^[^:]*:\/\//, ''))) {
    return 'prefix contains "." / ".." or empty segments';
  }
  const problem = uriSanProblem(prefix === null ? rule : prefix.slice(0, -1));
  if (problem !== null) return `can never match: it ${problem}, and such a URI SAN is left out of the identity`;
  if (prefix === null) return (id) => id.uris.includes(rule);
  return (id) => id.uris.some((u) => u.startsWith(prefix) && isPlainRemainder(u.slice(prefix.length)));
}

function compileName(rule: string, pick: (id: Identity) => Identity['subjectRdns']): Test | string {
  const rdns = parseDistinguishedName(rule);
  if (typeof rdns === 'string') return `is not an RFC 4514 name: it ${rdns}`;
  return (id) => sameName(rdns, pick(id));
}

function compileKey(key: RuleKey, value: string): { test: Test; label: string } | string {
  switch (key) {
    case 'cn':
      return { test: (id) => id.commonNames.includes(value), label: value };
    case 'ou':
      return { test: (id) => id.orgUnits.includes(value), label: value };
    case 'o':
      return { test: (id) => id.orgs.includes(value), label: value };
    case 'email':
      return { test: (id) => id.emails.includes(value), label: value };
    case 'serial': {
      const want = normalizeSerial(value);
      if (want === null) return 'is not a hex serial number (e.g. "0A:1B:2C" or "0a1b2c")';
      return { test: (id) => normalizeSerial(id.serial) === want, label: want };
    }
    case 'fingerprint': {
      const want = normalizeFingerprint(value);
      if (want === null) return 'is not a SHA-256 fingerprint (64 hex digits, colons and a "sha256:" prefix allowed)';
      return { test: (id) => normalizeFingerprint(id.fingerprint256) === want, label: `sha256:${want}` };
    }
    case 'dns': {
      const test = compileDns(value);
      return typeof test === 'string' ? test : { test, label: value };
    }
    case 'uri': {
      const test = compileUri(value);
      return typeof test === 'string' ? test : { test, label: value };
    }
    case 'subject':
    case 'issuer': {
      const test = compileName(value, key === 'subject' ? (id) => id.subjectRdns : (id) => id.issuerRdns);
      return typeof test === 'string' ? test : { test, label: value };
    }
  }
}

function checkPlainValue(value: unknown, refuseOuterSpace: boolean): string | null {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value} (quote it)`;
  if (value === '') return 'is empty (remove it or give a value)';
  // Subjects are exempt: RFC 4514 parsing already drops unescaped outer whitespace.
  if (refuseOuterSpace && value.trim() !== value) return 'has leading or trailing whitespace (remove it)';
  if (/[\x00-\x1f\x7f]/.test(value)) return 'contains a control character';
  return null;
}

export interface CompiledAllow {
  matcher: Matcher;
  /** One label per rule, for `check`, `inspect` and describe(). */
  labels: string[];
}

/**
 * Compiles a spec into a matcher plus rule labels; throws ConfigError naming every bad rule. `trust` (the loaded
 * client CAs) scopes or refuses serial rules without an issuer; without it (syntax checks only) they are not scoped.
 */
export function compileAllowRules(spec: AllowSpec, where: string, trust?: TrustedIssuers): CompiledAllow {
  if (spec === 'any-verified') return { matcher: () => 'any-verified', labels: ['any-verified'] };
  const problems: string[] = [];
  const rules: { tests: Test[]; label: string }[] = [];
  spec.forEach((rule, i) => {
    const at = (key: string, value: unknown): string =>
      where === FLAGS_WHERE ? flagText(rule, key, value) : `${where}[${i}].${key}`;
    const keys = Object.keys(rule);
    if (keys.length === 0)
      problems.push(
        `${where === FLAGS_WHERE ? where : `${where}[${i}]`}: rule has no keys (give at least one of ${RULE_KEYS.join(', ')})`,
      );
    const tests: Test[] = [];
    const parts: string[] = [];
    for (const key of keys) {
      if (!(RULE_KEYS as readonly string[]).includes(key)) {
        problems.push(`${at(key, '')}: unknown rule key (use one of ${RULE_KEYS.join(', ')})`);
      }
    }
    for (const key of RULE_KEYS) {
      if (!(key in rule)) continue;
      const value: unknown = rule[key];
      const bad = checkPlainValue(value, key !== 'subject' && key !== 'issuer');
      const compiled = bad ?? compileKey(key, value as string);
      if (typeof compiled === 'string') {
        problems.push(`${at(key, value)}: ${compiled}`);
        continue;
      }
      tests.push(compiled.test);
      parts.push(`${key}=${boundLabel(compiled.label)}`);
    }
    const scoped = scopeBareSerial(rule, trust, where === FLAGS_WHERE);
    if (typeof scoped === 'string') problems.push(`${at('serial', rule.serial)}: ${scoped}`);
    else if (scoped !== null) tests.push(scoped);
    rules.push({ tests, label: parts.join(',') });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const evaluate = (id: Identity): string | null => {
    // A rule with no tests cannot exist after validation; the length check keeps it from admitting everyone anyway.
    for (const rule of rules) if (rule.tests.length > 0 && rule.tests.every((test) => test(id))) return rule.label;
    return null;
  };
  // An identity is made once per connection (and shared by connections with the same chain) and never changed,
  // so its verdict under these rules is too: every request after a connection's first is one lookup.
  const verdicts = new WeakMap<Identity, string | null>();
  const matcher: Matcher = (id) => {
    const known = verdicts.get(id);
    if (known !== undefined) return known;
    const verdict = evaluate(id);
    verdicts.set(id, verdict);
    return verdict;
  };
  return { matcher, labels: rules.map((r) => r.label) };
}

/** How a flag rule was written: `--allow-serial "issuer=CN=A;1000"`. */
function flagText(rule: AllowRule, key: string, value: unknown): string {
  const flagKey = key === 'issuer' ? (FLAG_KEYS.find((k) => k in rule) ?? 'issuer') : key;
  const written = rule.issuer === undefined ? value : `issuer=${rule.issuer};${String(rule[flagKey as RuleKey] ?? '')}`;
  return `--allow-${flagKey} ${JSON.stringify(written)}`;
}

/**
 * Builds the spec the `--allow-*` flags describe; null when none was given. Each flag value is a one-key rule, or
 * two keys when written `issuer=<DN>;<value>`.
 */
export function allowSpecFromFlags(allow: AllowFlags, anyVerified: boolean): AllowSpec | null {
  const rules: AllowRule[] = [];
  const problems: string[] = [];
  for (const key of FLAG_KEYS) {
    for (const raw of allow[key]) {
      const split = splitIssuerFlag(raw);
      if (split === null)
        problems.push(
          `--allow-${key} ${JSON.stringify(raw)}: "issuer=" needs a ";" before the value (write "issuer=CN=Team CA,O=Acme;<value>")`,
        );
      else
        rules.push(split.issuer === undefined ? { [key]: split.value } : { [key]: split.value, issuer: split.issuer });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (anyVerified && rules.length > 0) {
    throw new ConfigError([
      `--allow-any-verified admits every verified certificate, so ${[...new Set(rules.map((r) => `--allow-${Object.keys(r)[0]}`))].join(', ')} would have no effect: remove one or the other`,
    ]);
  }
  if (anyVerified) return 'any-verified';
  return rules.length > 0 ? rules : null;
}
