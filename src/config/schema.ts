// The parser for every flag's value, driven by the flag table; each failure message says what is wrong and how to fix
// it.
import { isIPv4, isIPv6 } from 'node:net';
import type { HostPort, Upstream } from './types.js';
import { parseDuration } from './durations.js';
import { MAX_DURATION_MS, type FlagSpec } from './flags.js';
import { normalizeHeaderName } from './header-name.js';

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (message: string): Parsed<never> => ({ ok: false, message });

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Longer values are not paths or addresses anyone typed: cut so a pasted file cannot flood the terminal. */
export const SHOWN_VALUE_MAX = 4096;

/** Quote a bad value for a message: whole and JSON-escaped (control characters visible), cut only when hostile. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= SHOWN_VALUE_MAX) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_VALUE_MAX))}... (${value.length} characters)`;
  }
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** `host:port`, `[v6]:port`; port 0 asks the OS for a free port. */
export function parseHostPort(text: string): Parsed<HostPort> {
  const fix = 'write host:port, e.g. 0.0.0.0:8443, 127.0.0.1:8443 or [::]:8443 for IPv6';
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
  let host: string;
  let portText: string;
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (!isIPv6(host))
      return fail(`${showValue(text)} has "${host}" in brackets, which is not an IPv6 address; ${fix}`);
  } else if (text.startsWith('[')) {
    return fail(`${showValue(text)}: write a bracketed IPv6 address followed by :port, e.g. [::]:8443`);
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 0 && parsePort(text) !== undefined) {
      return fail(
        `${showValue(text)} is a port without a host; write 0.0.0.0:${text} (every interface) or 127.0.0.1:${text} (this machine only)`,
      );
    }
    if (colons === 0) return fail(`${showValue(text)} has no port; ${fix}`);
    if (colons > 1) return fail(`${showValue(text)} is ambiguous; write IPv6 addresses in brackets, e.g. [::]:8443`);
    [host = '', portText = ''] = text.split(':');
    if (host === '') return fail(`${showValue(text)} has no host; ${fix}`);
    if (!isIPv4(host) && !HOSTNAME.test(host))
      return fail(`${showValue(text)}: "${host}" is not an IP address or host name; ${fix}`);
  }
  const port = parsePort(portText);
  if (port === undefined) return fail(`${showValue(text)}: port must be a number from 0 to 65535; ${fix}`);
  return ok({ host, port });
}

/** `http://host:port`, `https://host:port` or `unix:/absolute/path.sock`. */
export function parseUpstream(text: string): Parsed<Upstream> {
  const fix = 'write http://host:port, https://host:port or unix:/absolute/path.sock, e.g. http://127.0.0.1:8080';
  if (text.startsWith('unix:')) {
    const socketPath = text.slice('unix:'.length).replace(/^\/+/, '/');
    if (!socketPath.startsWith('/')) return fail(`${showValue(text)}: the socket path must be absolute; ${fix}`);
    if (socketPath.includes('\0')) return fail(`${showValue(text)}: the socket path contains NUL; ${fix}`);
    return ok({ kind: 'unix', socketPath, origin: `unix:${socketPath}` });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`${showValue(text)} is not a URL; ${fix}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return fail(`${showValue(text)}: scheme "${url.protocol}" is not supported; ${fix}`);
  if (url.username || url.password)
    return fail(`${showValue(text)}: credentials in the upstream URL are not supported; remove "user:password@"`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || /[?#]$/.test(text)) {
    return fail(`${showValue(text)}: the upstream is an origin only (no path, query or fragment); ${fix}`);
  }
  if (url.hostname === '') return fail(`${showValue(text)} has no host; ${fix}`);
  const kind = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (kind === 'https' ? 443 : 80) : Number(url.port);
  if (port === 0) return fail(`${showValue(text)}: port 0 cannot be connected to; ${fix}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return ok({ kind, url, host, port, origin: url.origin });
}

function parseString(value: unknown, flag: FlagSpec): Parsed<string> {
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? ' (quote it in the config file so it stays text)' : '';
    return fail(`expected text, got ${showValue(value)}${hint}; e.g. ${flag.example}`);
  }
  if (value.trim() === '') return fail(`is empty; e.g. ${flag.example}`);
  return ok(value.trim());
}

/** RFC 9110 field-name (a token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Fields that frame or route a request (or that gRPC and WebSocket handshakes need): removing them breaks the
 * exchange.
 */
const UNSTRIPPABLE: ReadonlySet<string> = new Set(['host', 'content-length', 'transfer-encoding', 'te', 'upgrade']);

/** A header name to strip, in the normalized form every comparison uses (lower case, `_` as `-`). */
function parseHeaderName(text: string, flag: FlagSpec): Parsed<string> {
  if (!HEADER_NAME.test(text))
    return fail(
      `${showValue(text)} is not a header name (letters, digits and !#$%&'*+.^_\`|~- only); e.g. ${flag.example}`,
    );
  const name = normalizeHeaderName(text);
  if (UNSTRIPPABLE.has(name))
    return fail(`${showValue(text)} frames or routes the request and cannot be removed; e.g. ${flag.example}`);
  return ok(name);
}

/** One list entry, checked by the flag's format. */
function parseListItem(value: unknown, flag: FlagSpec): Parsed<string> {
  const text = parseString(value, flag);
  if (!text.ok) return text;
  if (flag.format === 'header-name') return parseHeaderName(text.value, flag);
  // `issuer=<DN>;<value>` narrows a rule to one CA (authz/issuer-scope.ts); hex values never contain ';'.
  const body =
    flag.format !== undefined && text.value.startsWith('issuer=')
      ? text.value.slice(text.value.lastIndexOf(';') + 1)
      : text.value;
  const compact = body.replace(/:/g, '');
  // A leading "-": non-compliant negative serials exist, and X-Client-Serial writes them that way.
  if (flag.format === 'hex' && !/^-?[0-9a-fA-F]+$/.test(compact)) {
    return fail(
      `${showValue(text.value)} is not a hexadecimal serial number; e.g. ${flag.example} or "issuer=CN=Team CA,O=Acme;0A1B2C"`,
    );
  }
  if (flag.format === 'fingerprint' && !/^[0-9a-fA-F]{64}$/.test(compact.replace(/^sha256/i, ''))) {
    return fail(
      `${showValue(text.value)} is not a SHA-256 fingerprint (64 hex digits, colons and a sha256: prefix allowed); e.g. ${flag.example}`,
    );
  }
  return text;
}

function parseList(value: unknown, flag: FlagSpec): Parsed<string[]> {
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items))
    return fail(
      `expected a list, got ${showValue(value)}; in a config file write a sequence, e.g. ${flag.name}: [a, b]`,
    );
  const out: string[] = [];
  const errors: string[] = [];
  items.forEach((item: unknown, i) => {
    const parsed = parseListItem(item, flag);
    if (parsed.ok) out.push(parsed.value);
    else errors.push(items.length > 1 ? `entry ${i + 1}: ${parsed.message}` : parsed.message);
  });
  return errors.length > 0 ? fail(errors.join('; ')) : ok(out);
}

function parseBoolean(value: unknown, flag: FlagSpec): Parsed<boolean> {
  if (typeof value === 'boolean') return ok(value);
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return ok(true);
    if (['false', '0', 'no', 'off'].includes(v)) return ok(false);
  }
  return fail(
    `expected true or false, got ${showValue(value)}; e.g. ${flag.name}: true in a file, ${flag.example} on the command line`,
  );
}

function parseDurationValue(value: unknown, flag: FlagSpec): Parsed<number> {
  const fix = `write a number with a unit (ms, s, m, h), e.g. ${flag.example}`;
  if (typeof value === 'number') return fail(`${value} has no unit; ${fix}`);
  if (typeof value !== 'string') return fail(`expected a duration, got ${showValue(value)}; ${fix}`);
  const ms = parseDuration(value);
  if (ms === undefined) return fail(`${showValue(value)} is not a duration; ${fix}`);
  const min = flag.min ?? 1;
  if (ms < min) return fail(`${showValue(value)} is too short (at least ${min}ms); ${fix}`);
  if (ms > (flag.max ?? MAX_DURATION_MS)) return fail(`${showValue(value)} is too long (at most 24 days); ${fix}`);
  return ok(ms);
}

function parseInteger(value: unknown, flag: FlagSpec): Parsed<number> {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  const range = `a whole number from ${flag.min ?? 0} to ${flag.max ?? Number.MAX_SAFE_INTEGER}`;
  if (!Number.isSafeInteger(n)) return fail(`expected ${range}, got ${showValue(value)}; e.g. ${flag.example}`);
  if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max))
    return fail(`${n} is out of range: use ${range}; e.g. ${flag.example}`);
  return ok(n);
}

function parseEnum(value: unknown, flag: FlagSpec): Parsed<string> {
  const choices = flag.choices ?? [];
  const match =
    typeof value === 'string' ? choices.find((c) => c.toLowerCase() === value.trim().toLowerCase()) : undefined;
  return match !== undefined
    ? ok(match)
    : fail(`${showValue(value)} is not one of ${choices.join(', ')}; e.g. ${flag.example}`);
}

/** Parse one flag's raw value, from any source, into its typed form (HostPort, Upstream, milliseconds, …). */
export function parseFlagValue(value: unknown, flag: FlagSpec): Parsed<unknown> {
  switch (flag.kind) {
    case 'list':
      return parseList(value, flag);
    case 'boolean':
      return parseBoolean(value, flag);
    case 'duration':
      return parseDurationValue(value, flag);
    case 'integer':
      return parseInteger(value, flag);
    case 'enum':
      return parseEnum(value, flag);
    case 'string': {
      const text = parseString(value, flag);
      if (!text.ok) return text;
      if (flag.format === 'host-port') return parseHostPort(text.value);
      if (flag.format === 'host-port-or-off')
        return text.value.toLowerCase() === 'off' ? ok(null) : parseHostPort(text.value);
      if (flag.format === 'upstream') return parseUpstream(text.value);
      return text;
    }
  }
}
