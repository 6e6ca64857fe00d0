// Reads certificate and CRL fields with the openssl CLI, the independent source `check` and `inspect` output is
// compared with.
import { openssl } from '../../helpers/pki.js';

export interface OpensslCert {
  subject: string;
  issuer: string;
  serial: string;
  /** Lowercase hex, colons removed. */
  fingerprint: string;
  notBeforeMs: number;
  notAfterMs: number;
}

function valueAfter(line: string, prefix: string): string {
  const text = line.trim();
  if (!text.startsWith(prefix)) throw new Error(`openssl printed ${JSON.stringify(text)}, expected ${prefix}…`);
  return text.slice(prefix.length);
}

/** One openssl call per field, each from the PEM file as openssl reads it (its first certificate). */
export function readOpensslCert(file: string): OpensslCert {
  const x509 = (...args: string[]): string => openssl(['x509', '-in', file, '-noout', ...args]);
  return {
    subject: valueAfter(x509('-subject', '-nameopt', 'RFC2253'), 'subject='),
    issuer: valueAfter(x509('-issuer', '-nameopt', 'RFC2253'), 'issuer='),
    serial: valueAfter(x509('-serial'), 'serial='),
    fingerprint: valueAfter(x509('-fingerprint', '-sha256'), 'sha256 Fingerprint=').replace(/:/g, '').toLowerCase(),
    notBeforeMs: Date.parse(valueAfter(x509('-startdate'), 'notBefore=')),
    notAfterMs: Date.parse(valueAfter(x509('-enddate'), 'notAfter=')),
  };
}

/** SANs from `openssl x509 -ext subjectAltName`, grouped by openssl's own type names. */
export function readOpensslSans(file: string): { dns: string[]; uri: string[]; email: string[]; ip: string[] } {
  const out = openssl(['x509', '-in', file, '-noout', '-ext', 'subjectAltName']);
  const body = out.split('\n').slice(1).join(' ').trim();
  const sans = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const entry of body === '' ? [] : body.split(', ')) {
    const colon = entry.indexOf(':');
    const type = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    if (type === 'DNS') sans.dns.push(value);
    else if (type === 'URI') sans.uri.push(value);
    else if (type === 'email') sans.email.push(value);
    else if (type === 'IP Address') sans.ip.push(value);
    else throw new Error(`unexpected SAN type in openssl output: ${entry}`);
  }
  return sans;
}

const EKU_LONG_NAMES: Record<string, string> = {
  'TLS Web Client Authentication': 'clientAuth',
  'TLS Web Server Authentication': 'serverAuth',
  'E-mail Protection': 'emailProtection',
  'Code Signing': 'codeSigning',
};

/** EKU from `openssl x509 -ext extendedKeyUsage`, mapped from openssl's long names to the short names. */
export function readOpensslEku(file: string): string[] {
  const out = openssl(['x509', '-in', file, '-noout', '-ext', 'extendedKeyUsage']);
  const body = out.split('\n').slice(1).join(' ').trim();
  return body === '' ? [] : body.split(', ').map((name) => EKU_LONG_NAMES[name] ?? name);
}

/** nextUpdate of a PEM CRL as openssl prints it, in ms. */
export function readOpensslCrlNextUpdate(file: string): number {
  return Date.parse(valueAfter(openssl(['crl', '-in', file, '-noout', '-nextupdate']), 'nextUpdate='));
}
