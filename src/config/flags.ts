// The one table of configuration flags; commander options, env names, file keys and --help all derive from it.

export type FlagKind = 'string' | 'list' | 'boolean' | 'duration' | 'integer' | 'enum';

/** How a string value is read beyond its kind: an address, an upstream, or a file path that must be readable. */
export type FlagFormat = 'host-port' | 'host-port-or-off' | 'upstream' | 'file' | 'hex' | 'fingerprint' | 'header-name';

export interface FlagSpec {
  /** Flag name without dashes; also the config-file key. */
  name: string;
  kind: FlagKind;
  format?: FlagFormat;
  /** Raw default, written the way an operator would write it; validated by the same schema as any input. */
  default?: string | boolean;
  /** What --help says when there is no literal default (`system trust store`). */
  defaultText?: string;
  required?: boolean;
  choices?: readonly string[];
  /** Bounds: milliseconds for durations, the value for integers. */
  min?: number;
  max?: number;
  /** Placeholder shown in --help (`<file>`). */
  valueName?: string;
  /** Separator for this list in an environment variable (default `,`). */
  envSeparator?: string;
  /** Whether the value may appear in the config file (`config` itself may not). */
  inFile?: boolean;
  help: string;
  /** Example shown in problem messages. */
  example: string;
}

/** setTimeout's ceiling (~24.8 days); a longer duration would silently fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

const allow = (rule: string, what: string, example: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name: `allow-${rule}`,
  kind: 'list',
  valueName: `<${rule}>`,
  help: `admit callers whose ${what} (repeatable; any matching rule admits)`,
  example: `--allow-${rule} ${example}`,
  ...extra,
});

export const FLAGS: readonly FlagSpec[] = [
  {
    name: 'config',
    kind: 'string',
    format: 'file',
    inFile: false,
    valueName: '<file>',
    help: 'YAML or JSON config file; keys are flag names',
    example: '--config /etc/mtls-sidecar/config.yaml',
  },
  {
    name: 'listen',
    kind: 'string',
    format: 'host-port',
    default: '0.0.0.0:8443',
    valueName: '<host:port>',
    help: 'TLS listener ([::]:8443 for IPv6)',
    example: '--listen 0.0.0.0:8443',
  },
  {
    name: 'upstream',
    kind: 'string',
    format: 'upstream',
    required: true,
    valueName: '<url>',
    help: 'where to forward: http://host:port, https://host:port or unix:/path/to.sock',
    example: '--upstream http://127.0.0.1:8080',
  },
  {
    name: 'upstream-protocol',
    kind: 'enum',
    choices: ['http1', 'h2'],
    default: 'http1',
    valueName: '<http1|h2>',
    help: 'HTTP version towards the upstream for plain HTTP requests: http1, or h2 (cleartext h2c for http:// and unix:, ALPN h2 for https://); gRPC calls always use HTTP/2',
    example: '--upstream-protocol h2',
  },
  {
    name: 'upstream-ca',
    kind: 'string',
    format: 'file',
    valueName: '<file>',
    defaultText: 'system trust store',
    help: 'PEM bundle to verify an https:// upstream',
    example: '--upstream-ca /etc/ssl/upstream-ca.pem',
  },
  {
    name: 'cert',
    kind: 'string',
    format: 'file',
    required: true,
    valueName: '<file>',
    help: 'server certificate chain (PEM)',
    example: '--cert /etc/mtls/tls.crt',
  },
  {
    name: 'key',
    kind: 'string',
    format: 'file',
    required: true,
    valueName: '<file>',
    help: 'server private key (PEM)',
    example: '--key /etc/mtls/tls.key',
  },
  {
    name: 'client-ca',
    kind: 'list',
    format: 'file',
    required: true,
    valueName: '<file>',
    help: 'PEM bundle of CAs trusted to issue client certificates (repeatable)',
    example: '--client-ca /etc/mtls/client-ca.pem',
  },
  {
    name: 'crl',
    kind: 'list',
    format: 'file',
    valueName: '<file>',
    help: 'PEM CRL file (repeatable)',
    example: '--crl /etc/mtls/ca.crl',
  },
  allow('cn', 'certificate common name equals this', 'orders'),
  allow('ou', 'organizational unit equals this', 'payments'),
  allow('o', 'organization equals this', 'Acme'),
  allow('dns', "DNS SAN equals this (one leading '*.' label allowed)", 'orders.internal'),
  allow('uri', "URI SAN equals this (trailing '/*' for a prefix)", 'spiffe://example.org/ns/prod/*'),
  allow('email', 'email SAN equals this', 'ops@example.org'),
  allow(
    'serial',
    'serial number is this (hex; case and colons ignored); "issuer=<DN>;<hex>" names the issuing CA, required when several CAs are trusted',
    '0A1B2C',
    { format: 'hex' },
  ),
  allow(
    'fingerprint',
    'SHA-256 fingerprint is this (hex; case, colons and sha256: ignored)',
    'sha256:<64 hex digits>',
    { format: 'fingerprint' },
  ),
  allow('subject', 'RFC 4514 subject equals this', "'CN=orders,OU=payments,O=Acme'", {
    envSeparator: ';',
    help: "admit callers whose RFC 4514 subject equals this (repeatable; env list separated by ';' since subjects contain ',')",
  }),
  {
    name: 'allow-any-verified',
    kind: 'boolean',
    default: false,
    help: 'admit every certificate that passes verification (explicit opt-in)',
    example: '--allow-any-verified',
  },
  {
    name: 'policy',
    kind: 'string',
    format: 'file',
    valueName: '<file>',
    help: 'per-route policy file (YAML or JSON)',
    example: '--policy /etc/mtls/policy.yaml',
  },
  {
    name: 'metrics-listen',
    kind: 'string',
    format: 'host-port-or-off',
    default: '127.0.0.1:8444',
    valueName: '<host:port|off>',
    help: "plain-HTTP /metrics, /healthz, /readyz; 'off' disables",
    example: '--metrics-listen 127.0.0.1:8444',
  },
  {
    name: 'min-tls-version',
    kind: 'enum',
    choices: ['TLSv1.2', 'TLSv1.3'],
    default: 'TLSv1.2',
    valueName: '<version>',
    help: 'lowest TLS version accepted: TLSv1.2 or TLSv1.3',
    example: '--min-tls-version TLSv1.3',
  },
  {
    name: 'forward-cert',
    kind: 'boolean',
    default: false,
    help: "also forward the caller's certificate (XFCC Cert= and RFC 9440 Client-Cert)",
    example: '--forward-cert',
  },
  {
    name: 'strip-header',
    kind: 'list',
    format: 'header-name',
    valueName: '<name>',
    help: 'also remove this request header, in every spelling (any case, _ as -), before forwarding (repeatable)',
    example: '--strip-header X-Tenant-Id',
  },
  {
    name: 'upstream-timeout',
    kind: 'duration',
    default: '30s',
    min: 1,
    valueName: '<duration>',
    help: 'time to upstream response headers, then 504',
    example: '--upstream-timeout 30s',
  },
  {
    name: 'handshake-timeout',
    kind: 'duration',
    default: '10s',
    min: 1,
    valueName: '<duration>',
    help: 'cut off TLS handshakes slower than this',
    example: '--handshake-timeout 10s',
  },
  {
    name: 'headers-timeout',
    kind: 'duration',
    default: '30s',
    min: 1,
    valueName: '<duration>',
    help: 'cut off requests whose headers arrive slower than this',
    example: '--headers-timeout 30s',
  },
  {
    name: 'idle-timeout',
    kind: 'duration',
    default: '60s',
    min: 1,
    valueName: '<duration>',
    help: 'close keep-alive connections idle this long',
    example: '--idle-timeout 60s',
  },
  {
    name: 'request-timeout',
    kind: 'duration',
    default: '5m',
    min: 1,
    valueName: '<duration>',
    help: 'cut off a request whose body has not fully arrived this long after it started (bodies stalled for --idle-timeout are cut sooner)',
    example: '--request-timeout 5m',
  },
  {
    name: 'reload-interval',
    kind: 'duration',
    default: '5s',
    min: 100,
    valueName: '<duration>',
    help: 'how often certificate, CA, CRL and policy files are re-read',
    example: '--reload-interval 5s',
  },
  {
    name: 'shutdown-grace',
    kind: 'duration',
    default: '20s',
    min: 0,
    valueName: '<duration>',
    help: 'drain time after SIGTERM/SIGINT',
    example: '--shutdown-grace 20s',
  },
  {
    name: 'max-connections',
    kind: 'integer',
    default: '512',
    min: 1,
    max: 1_000_000,
    valueName: '<n>',
    help: 'open caller connections per process; a connection over the limit is closed at accept, before TLS',
    example: '--max-connections 512',
  },
  {
    name: 'max-handshakes',
    kind: 'integer',
    default: '128',
    min: 1,
    max: 1_000_000,
    valueName: '<n>',
    help: 'TLS handshakes in progress per process; a connection over the limit is closed at accept, before TLS',
    example: '--max-handshakes 128',
  },
  {
    name: 'max-concurrent-streams',
    kind: 'integer',
    default: '100',
    min: 1,
    max: 2_147_483_647,
    valueName: '<n>',
    help: 'HTTP/2 streams one caller connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)',
    example: '--max-concurrent-streams 100',
  },
  {
    name: 'upstream-max-connections',
    kind: 'integer',
    default: '512',
    min: 1,
    max: 1_000_000,
    valueName: '<n>',
    help: 'connections to the upstream per process: the HTTP/1.1 pool (requests beyond wait for a free one), and HTTP/2 sessions (another opened when the others are at their stream limit)',
    example: '--upstream-max-connections 512',
  },
  {
    name: 'upstream-streams-per-connection',
    kind: 'integer',
    default: '50',
    min: 1,
    max: 1_000_000,
    valueName: '<n>',
    help: 'HTTP/2 upstream streams (gRPC calls, --upstream-protocol h2 requests) one caller connection may have open at once; more are refused (429, gRPC RESOURCE_EXHAUSTED)',
    example: '--upstream-streams-per-connection 50',
  },
  {
    name: 'workers',
    kind: 'integer',
    default: '1',
    min: 1,
    max: 1024,
    valueName: '<n>',
    help: 'processes sharing the listener',
    example: '--workers 2',
  },
  {
    name: 'allow-insecure-posture',
    kind: 'boolean',
    default: false,
    help: 'start despite critical posture findings',
    example: '--allow-insecure-posture',
  },
  {
    name: 'log-level',
    kind: 'enum',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    valueName: '<level>',
    help: 'pino log level',
    example: '--log-level info',
  },
];

/** Environment variables under the prefix that are not flags but are still ours. */
export const EXTRA_ENV_NAMES: readonly string[] = ['MTLS_SIDECAR_DEBUG'];

/**
 * Kubernetes injects service-link variables for a Service named `mtls-sidecar` (MTLS_SIDECAR_SERVICE_HOST,
 * MTLS_SIDECAR_PORT_8443_TCP_ADDR, …); refusing to start over them would break ordinary deployments.
 */
const SERVICE_LINK =
  /^MTLS_SIDECAR_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_(?:PROTO|PORT|ADDR))?)?)$/;

/** True for `MTLS_SIDECAR_*` names that are ours or Kubernetes' but not configuration flags. */
export function isNonFlagEnvName(name: string): boolean {
  return EXTRA_ENV_NAMES.includes(name) || SERVICE_LINK.test(name);
}

export const ENV_PREFIX = 'MTLS_SIDECAR_';

const byName = new Map(FLAGS.map((f) => [f.name, f]));

export function findFlag(name: string): FlagSpec | undefined {
  return byName.get(name);
}

/** `client-ca` → `MTLS_SIDECAR_CLIENT_CA`. */
export function envNameOf(name: string): string {
  return ENV_PREFIX + name.toUpperCase().replace(/-/g, '_');
}

/**
 * The --help line for a flag: meaning, env name and default (`defaultText` replaces it, e.g. for `dev`'s own
 * defaults).
 */
export function describeFlag(flag: FlagSpec, defaultText?: string): string {
  const dflt =
    defaultText !== undefined
      ? `default: ${defaultText}`
      : flag.required
        ? 'required'
        : `default: ${flag.defaultText ?? (flag.default !== undefined ? String(flag.default) : 'none')}`;
  return `${flag.help} [env ${envNameOf(flag.name)}; ${dflt}]`;
}
