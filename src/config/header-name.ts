// The one normal form of a header name, shared by the configuration (--strip-header) and the request path.

/**
 * Normalized form used for every comparison: lower case with `_` as `-`, because many frameworks
 * (CGI/WSGI, Rack, PHP, some Node middlewares) fold the two, so `X_Client_Subject` reaches the app as
 * `x-client-subject`. Returns `name` unchanged when it is already normalized.
 */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.indexOf('_') === -1 ? lower : lower.replaceAll('_', '-');
}
