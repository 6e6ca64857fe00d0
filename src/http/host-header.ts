// Which authority a request addressed, and the Host fields that make a request head malformed.
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The host the caller addressed, for X-Forwarded-Host: `:authority` on HTTP/2 (RFC 9113 §8.3.1 makes it the
 * authority; a Host header there may only repeat it, see hostConflict), else `Host`.
 */
export function forwardedHostOf(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'];
  if (typeof authority === 'string' && authority !== '') return authority;
  return headers.host;
}

/** An HTTP/2 request whose Host header names another authority than `:authority` is malformed (RFC 9113 §8.3.1). */
export function hostConflict(headers: IncomingHttpHeaders): boolean {
  const authority = headers[':authority'];
  return (
    typeof authority === 'string' &&
    headers.host !== undefined &&
    headers.host.toLowerCase() !== authority.toLowerCase()
  );
}

/**
 * More than one Host field (RFC 9112 §3.2: answer 400). Node keeps only the first in `headers`, so the raw list is
 * counted; one pass, the name compared only when its length can match.
 */
export function duplicateHost(rawHeaders: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name === undefined || name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}
