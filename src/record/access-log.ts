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

/** Characters JSON.stringify escapes in a string (quote, backslash, controls, surrogates: lone ones are escaped). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal; most values need no escaping, and the check is about twice as fast as JSON.stringify. */
function quote(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function optionalString(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${quote(value)}`;
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
    optionalString('subject', entry.subject) +
    optionalString('uri', entry.uri) +
    optionalString('serial', entry.serial) +
    optionalString('issuer', entry.issuer) +
    `,"decision":${quote(entry.decision)}` +
    optionalString('route', entry.route) +
    rule +
    optionalString('reason', entry.reason) +
    grpc +
    ',"msg":"access"}\n'
  );
}

let lastMs = -1;
let lastIso = '';

/** ISO time of now, formatted once per millisecond (many access lines share one under load). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export function logAccess(log: Logger, entry: AccessEntry): void {
  const sink = accessSinkOf(log);
  if (sink === undefined) {
    log.info(entry, 'access');
    return;
  }
  if (!log.isLevelEnabled('info')) return;
  sink(formatAccessLine(entry, isoNow(), process.pid));
}
