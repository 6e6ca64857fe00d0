// Which incoming request headers a caller may not pass to the upstream, and the name normalization used to find them.
import { normalizeHeaderName } from '../config/header-name.js';

export { normalizeHeaderName };

/** The identity headers this proxy sets; all of them are always stripped, even those a connection omits. */
export const IDENTITY_HEADER_NAMES: readonly string[] = [
  'x-client-subject',
  'x-client-issuer',
  'x-client-cn',
  'x-client-serial',
  'x-client-fingerprint-sha256',
  'x-client-uri',
  'x-client-dns',
  'x-client-not-after',
  'x-forwarded-client-cert',
  'client-cert',
];

/**
 * Headers stripped from every request (normalized names). Beyond the identity headers (and Client-Cert(-Chain),
 * X-Forwarded-*, X-Request-Id) this drops:
 * - hop-by-hop headers (RFC 9110 §7.6.1) meant for this proxy only; `proxy-authorization` is a credential
 *   for a proxy, never for the upstream;
 * - other conventions upstream frameworks are commonly configured to trust for the client address or
 *   certificate (RFC 7239 `Forwarded`, `X-Real-IP`, Traefik/nginx/Tomcat client-cert headers), so a caller
 *   cannot smuggle a second, forged identity past us.
 * `te` and `upgrade` are handled separately (kept in narrow cases); body framing (`content-length`,
 * `transfer-encoding`) and `host` are left to the proxy layer.
 */
export const STRIPPED_HEADER_NAMES: ReadonlySet<string> = new Set([
  ...IDENTITY_HEADER_NAMES,
  'client-cert-chain',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
  'x-request-id',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'http2-settings',
  'x-client-cert',
  'x-ssl-client-cert',
  'ssl-client-cert',
  'x-forwarded-tls-client-cert',
  'x-forwarded-tls-client-cert-info',
  // Hop-local: Node already answered `100 Continue`, and undici refuses to forward the header.
  'expect',
  // Method and URL overrides let a caller be judged as `POST /public` and run as `DELETE /admin`
  // (Rack::MethodOverride, Symfony, ASP.NET Core, IIS URL rewrite): the policy could not see that.
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  // More client-address and scheme conventions frameworks are configured to trust.
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-url-scheme',
  'front-end-https',
  'x-original-forwarded-for',
  'true-client-ip',
  'x-cluster-client-ip',
  'x-client-ip',
  // Client-certificate and authenticated-user conventions of other proxies and load balancers (nginx/HAProxy
  // `ssl_client_*` exports, IIS ARR, AWS ALB mTLS, oauth2-proxy, Apache REMOTE_USER, SPIFFE-aware gateways): an
  // upstream configured for one of them would take a caller's own value as a verified identity.
  'x-ssl-client-verify',
  'x-ssl-client-s-dn',
  'x-ssl-client-i-dn',
  'x-ssl-client-dn',
  'x-ssl-client-serial',
  'x-ssl-client-fingerprint',
  'x-ssl-client-escaped-cert',
  'ssl-client-verify',
  'ssl-client-s-dn',
  'ssl-client-i-dn',
  'x-arr-clientcert',
  'x-amzn-mtls-clientcert',
  'x-amzn-mtls-clientcert-leaf',
  'x-amzn-mtls-clientcert-serial-number',
  'x-amzn-mtls-clientcert-issuer',
  'x-amzn-mtls-clientcert-subject',
  'x-amzn-mtls-clientcert-validity',
  'remote-user',
  'x-remote-user',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-auth-request-user',
  'x-auth-request-email',
  'x-auth-request-groups',
  'x-auth-request-preferred-username',
  'x-client-verify',
  'x-client-dn',
  'x-spiffe-id',
  'x-forwarded-client-cert-chain',
]);

/**
 * Names a caller listed in `Connection` must not remove: the body framing and `host` belong to the proxy
 * layer, and `upgrade` carries WebSocket handshakes (`Connection: Upgrade` is how every client sends one).
 */
const CONNECTION_PROTECTED: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host', 'upgrade']);

/**
 * Normalized header names listed in `Connection` values (comma-separated tokens, any case, `_` variants),
 * minus the protected ones; null when there are none. Accepts a joined string or an array of values.
 */
export function parseConnectionTokens(value: string | readonly string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  // The usual values name nothing beyond headers stripped anyway: skip the Set.
  if (typeof value === 'string' && (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive')) return null;
  let result: Set<string> | null = null;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    let start = 0;
    for (let end = 0; end <= v.length; end++) {
      if (end !== v.length && v.charCodeAt(end) !== 44) continue;
      const token = normalizeHeaderName(v.slice(start, end).trim());
      start = end + 1;
      if (token.length === 0 || CONNECTION_PROTECTED.has(token)) continue;
      (result ??= new Set()).add(token);
    }
  }
  return result;
}

/** True when a comma-separated header value lists `token` (already lower case), ignoring case and spaces. */
export function listsToken(value: string | readonly string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    let start = 0;
    for (let end = 0; end <= v.length; end++) {
      if (end !== v.length && v.charCodeAt(end) !== 44) continue;
      if (v.slice(start, end).trim().toLowerCase() === token) return true;
      start = end + 1;
    }
  }
  return false;
}
