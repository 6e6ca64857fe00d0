// Which URI SANs may stand for a caller: SPIFFE IDs must follow the SPIFFE ID rules, and no URI may carry userinfo.
//
// `spiffe://example.org:443@evil.org/x` satisfies OpenSSL's URI name constraint for example.org yet names evil.org
// to most URI parsers, so a URI whose meaning depends on the parser is left out of the identity: it matches no
// rule and is never forwarded.

/** SPIFFE ID spec §2.1: trust domain of lowercase letters, digits, `.`, `-`, `_`. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** SPIFFE ID spec §2.2: path segments of letters, digits, `.`, `-`, `_`; never `.` or `..`. */
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_SPIFFE_ID = 2048;
/** `scheme://` followed by an authority that holds an `@`. */
const USERINFO = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/;

/** Why a `spiffe:` URI is not a valid SPIFFE ID (a verb phrase: "it …"), or null when it is one. */
function spiffeIdProblem(uri: string): string | null {
  if (!uri.startsWith('spiffe://'))
    return 'does not write its scheme as "spiffe://" (lower case, then the trust domain)';
  if (uri.length > MAX_SPIFFE_ID) return `is longer than ${MAX_SPIFFE_ID} bytes`;
  const rest = uri.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const domain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (domain.includes('@')) return 'has userinfo ("@") before the trust domain';
  if (domain.includes(':')) return 'has a port';
  if (!TRUST_DOMAIN.test(domain)) return 'has a trust domain that is not lowercase letters, digits, ".", "-" or "_"';
  if (/[?#]/.test(path)) return 'has a query or fragment';
  if (path === '') return null;
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'has an empty path segment or a trailing "/"';
    if (segment === '.' || segment === '..') return 'has a "." or ".." path segment';
    if (!PATH_SEGMENT.test(segment)) return 'has a path character other than letters, digits, ".", "-" or "_"';
  }
  return null;
}

/** Why a URI SAN cannot stand for the caller (a verb phrase: "it …"; it is then left out of the identity), or null. */
export function uriSanProblem(uri: string): string | null {
  if (/^spiffe:/i.test(uri)) return spiffeIdProblem(uri);
  if (USERINFO.test(uri)) return 'has userinfo ("user@" in the authority), which lets it name another host';
  return null;
}
