// The requests fastify's router hands to the catch-all forwarding route, told apart without the router (for the
// listener's direct path).

/** Methods forwarded; any other is answered 400 by the not-found handler. */
export const FORWARDED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

const FORWARDED = new Set(FORWARDED_METHODS);

/**
 * True when fastify would route `method target` to the catch-all route ('/' or '/*') without a framework error: a
 * forwarded method spelled exactly (`get` over HTTP/2 is not GET), an origin-form target (find-my-way rewrites an
 * absolute one), and a path with no percent-escape before its query (find-my-way decodes escapes and answers an
 * undecodable one, `/%FF`, itself). False only means "not decided here": fastify routes the request as always.
 */
export function routesToCatchAll(method: string | undefined, target: string | undefined): boolean {
  if (method === undefined || target === undefined || !FORWARDED.has(method)) return false;
  if (target.charCodeAt(0) !== 0x2f) return false;
  const percent = target.indexOf('%');
  if (percent === -1) return true;
  const query = target.indexOf('?');
  const fragment = target.indexOf('#');
  const pathEnd = Math.min(query === -1 ? target.length : query, fragment === -1 ? target.length : fragment);
  return percent > pathEnd;
}
