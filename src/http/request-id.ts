// The request id forwarded upstream and echoed in error bodies: the caller's own when well-formed, else a fresh one.
import { randomUUID } from 'node:crypto';

/** At most 128 characters of `[A-Za-z0-9._-]`; compiled once at load. */
const WELL_FORMED = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Keeps a caller's X-Request-Id only when exactly one well-formed value arrived; anything else (missing,
 * empty, too long, odd characters, duplicates — which Node joins with ", " or hands over as an array)
 * gets a random UUID, so logs and upstreams never see a value a caller could use to inject or collide.
 */
export function acceptOrGenerateRequestId(value: string | string[] | undefined): string {
  const single = typeof value === 'string' ? value : value?.length === 1 ? value[0] : undefined;
  return single !== undefined && WELL_FORMED.test(single) ? single : randomUUID();
}
