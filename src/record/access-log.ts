// One access line per request: who called, what was decided, how long it took. Never the query string or secrets.
import type { Logger } from 'pino';
import { accessSinkOf } from '../ops/logger.js';

export interface AccessEntry {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  subject?: string;
  uri?: string;
  serial?: string;
  /** RFC 4514 issuer name of the caller's certificate: serials are unique only per issuer. */
  issuer?: string;
  decision: string;
  /** The route that decided (`routes[0] /admin`, `default`); absent when no route was consulted. */
  route?: string;
  rule?: string | null;
  reason?: string;
  grpcStatus?: number;
}

const INFO = 30;

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * A duration rounded to the microsecond, as JSON.stringify writes it (`1.5`, `12.034`, `0`), built from integers:
 * printing a fractional double is the slowest step of the line. Any other value goes through jsonNumber.
 */
function jsonMillis(ms: number): string {
  const us = Math.round(ms * 1000);
  // Above 2^43 ms (278 years) the shortest form of the double can have fewer digits than the microseconds.
  if (us / 1000 !== ms || us < 0 || ms >= 2 ** 43) return jsonNumber(ms);
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  if (frac === 0) return String(whole);
  const digits = frac < 10 ? `00${frac}` : frac < 100 ? `0${frac}` : String(frac);
  return `${whole}.${digits.replace(/0+$/, '')}`;
}

/**
 * Whether JSON.stringify would escape anything in `value` (quote, backslash, controls, surrogates: lone ones are
 * escaped, and a pair is left to it too). A loop over the code units: as a regular expression the same test was the
 * largest single step in a profile of the line.
 */
function needsEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** A JSON string literal; most values need no escaping. */
function quote(value: string): string {
  return needsEscape(value) ? JSON.stringify(value) : `"${value}"`;
}

function optionalString(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${quote(value)}`;
}

type IdentityFields = Pick<AccessEntry, 'subject' | 'uri' | 'serial' | 'issuer'> & { text: string };

/** The caller's identity fields of the last line: a connection's requests repeat them, so they are quoted once. */
let lastIdentity: IdentityFields | null = null;

function identityFields(entry: AccessEntry): string {
  const last = lastIdentity;
  const { subject, uri, serial, issuer } = entry;
  if (last !== null && subject === last.subject && uri === last.uri && serial === last.serial && issuer === last.issuer)
    return last.text;
  const text =
    optionalString('subject', subject) +
    optionalString('uri', uri) +
    optionalString('serial', serial) +
    optionalString('issuer', issuer);
  lastIdentity = { subject, uri, serial, issuer, text };
  return text;
}

/**
 * The line pino writes for `log.info(entry, 'access')` with our base fields (level, ISO time, pid, the entry's
 * fields in declaration order, msg), built directly: the access line is written once per request, and pino's
 * generic serializer was most of its cost. One difference: a lone surrogate is escaped (`\ud800`, valid JSON)
 * where pino writes it raw for short strings (it becomes U+FFFD on output).
 */
export function formatAccessLine(entry: AccessEntry, isoTime: string, pid: number): string {
  const rule = entry.rule === undefined ? '' : `,"rule":${entry.rule === null ? 'null' : quote(entry.rule)}`;
  const grpc = entry.grpcStatus === undefined ? '' : `,"grpcStatus":${jsonNumber(entry.grpcStatus)}`;
  return (
    `{"level":${INFO},"time":"${isoTime}","pid":${pid}` +
    `,"requestId":${quote(entry.requestId)},"method":${quote(entry.method)}` +
    `,"path":${quote(entry.path)},"status":${jsonNumber(entry.status)},"durationMs":${jsonMillis(entry.durationMs)}` +
    identityFields(entry) +
    `,"decision":${quote(entry.decision)}` +
    optionalString('route', entry.route) +
    rule +
    optionalString('reason', entry.reason) +
    grpc +
    ',"msg":"access"}\n'
  );
}

let secondStart = Number.NaN;
let secondPrefix = '';

/**
 * The time `ms` as `toISOString` writes it: the part up to the seconds is formatted once per second and the
 * milliseconds appended. `toISOString` costs about twenty times as much, and at a few thousand requests a second the
 * millisecond changes every few lines.
 */
export function isoTimeOf(ms: number): string {
  const second = Math.floor(ms / 1000) * 1000;
  if (second !== secondStart) {
    const iso = new Date(second).toISOString();
    // `2026-12-07T23:30:01.000Z`, or `+275760-…` for years outside 0000–9999: all but the `000Z`.
    secondPrefix = iso.slice(0, -4);
    secondStart = second;
  }
  const frac = ms - second;
  return `${secondPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

export function logAccess(log: Logger, entry: AccessEntry): void {
  const sink = accessSinkOf(log);
  if (sink === undefined) {
    log.info(entry, 'access');
    return;
  }
  if (!log.isLevelEnabled('info')) return;
  sink(formatAccessLine(entry, isoTimeOf(Date.now()), process.pid));
}
