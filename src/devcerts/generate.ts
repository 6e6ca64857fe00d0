// Builds development certificates (CA, server, clients) with node-forge and returns PEM strings; no I/O.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

const { pki, asn1 } = forge;

/** A certificate and its private key, both PEM. The key is PKCS#8 (`BEGIN PRIVATE KEY`). */
export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

export interface ClientSpec {
  /** Becomes the certificate's CN (any Unicode, encoded as UTF8String). */
  name: string;
  /** URI SANs, e.g. SPIFFE IDs; ASCII only (an IA5String). */
  uris: string[];
  /** DNS SANs. */
  dns?: string[];
}

export interface GeneratedClient extends ClientSpec, CertAndKey {}

export interface DevMaterialSpec {
  /** DNS names and IP addresses for the server certificate's SANs; the first is also its CN. */
  hosts: string[];
  clients: ClientSpec[];
  /** Injected clock for tests; defaults to now. */
  now?: Date;
}

export interface DevMaterial {
  ca: CertAndKey;
  server: CertAndKey;
  clients: GeneratedClient[];
}

export const DEV_ORGANIZATION = 'mtls-sidecar development';
export const DEV_CA_COMMON_NAME = 'mtls-sidecar development CA';

const RSA_BITS = 2048;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const CA_YEARS = 10;
const LEAF_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

interface KeyPair {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  keyPem: string;
}

// Node's native RSA keygen takes milliseconds where forge's pure-JS one takes seconds; forge still
// builds and signs the certificate.
function generateRsaKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return {
    privateKey: forgeKey,
    publicKey: pki.setRsaPublicKey(forgeKey.n, forgeKey.e),
    keyPem: privateKey,
  };
}

// A positive serial with its top bit clear and a non-zero first byte, so the DER INTEGER needs no
// padding byte (OpenSSL rejects non-minimal encodings).
function generateSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

// UTF8String for every attribute, so non-ASCII names survive and nothing is a PrintableString.
// @types/node-forge types valueTagClass as asn1.Class, but forge reads it as an asn1.Type.
function buildName(attrs: Array<[shortName: string, value: string]>): forge.pki.CertificateField[] {
  return attrs.map(([shortName, value]) => ({
    shortName,
    value,
    valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class,
  }));
}

function buildValidity(cert: forge.pki.Certificate, now: Date, lifetimeMs: number): void {
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + lifetimeMs);
}

function toPem(cert: forge.pki.Certificate, key: KeyPair): CertAndKey {
  return { certPem: pki.certificateToPem(cert), keyPem: key.keyPem };
}

export interface Issuer {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

/** An issuer read back from PEM (an RSA CA such as `certs init` makes); throws when forge cannot use it. */
export function issuerFromPem(certPem: string, keyPem: string): Issuer {
  return { cert: pki.certificateFromPem(certPem), key: pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey };
}

function signLeaf(issuer: Issuer, subject: forge.pki.CertificateField[], extensions: object[], now: Date): CertAndKey {
  const key = generateRsaKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = generateSerialHex();
  buildValidity(cert, now, LEAF_DAYS * DAY_MS);
  cert.setSubject(subject);
  cert.setIssuer(issuer.cert.subject.attributes);
  // forge's `keyIdentifier: true` would hash the leaf's own key; the AKI must name the issuer's key.
  const issuerKeyId = issuer.cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: issuerKeyId },
  ]);
  cert.sign(issuer.key, forge.md.sha256.create());
  return toPem(cert, key);
}

/** A self-signed CA: CA:TRUE (critical), keyCertSign + cRLSign, 10 years. */
export function generateCa(now: Date = new Date()): CertAndKey & { issuer: Issuer } {
  const key = generateRsaKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = generateSerialHex();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  buildValidity(cert, now, notAfter.getTime() - now.getTime());
  const name = buildName([
    // O before CN in DER order, so the RFC 4514 string reads most specific first: CN=…,O=….
    ['O', DEV_ORGANIZATION],
    ['CN', DEV_CA_COMMON_NAME],
  ]);
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { ...toPem(cert, key), issuer: { cert, key: key.privateKey } };
}

/** `[::1]` → `::1`; anything else unchanged. */
export function normalizeHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A server certificate for `hosts` (DNS and IP SANs), serverAuth, 1 year. */
export function generateServerCert(issuer: Issuer, hosts: string[], now: Date = new Date()): CertAndKey {
  const names = hosts.map(normalizeHost);
  const first = names[0];
  if (first === undefined) throw new Error('generateServerCert: at least one host is required');
  const altNames = names.map((h) => (isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h }));
  return signLeaf(
    issuer,
    buildName([
      ['O', DEV_ORGANIZATION],
      ['CN', first],
    ]),
    [
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    now,
  );
}

/** A client certificate: CN = name, clientAuth, optional URI SANs, 1 year. */
export function generateClientCert(issuer: Issuer, client: ClientSpec, now: Date = new Date()): CertAndKey {
  const extensions: object[] = [
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ];
  const altNames = [
    ...client.uris.map((value) => ({ type: 6, value })),
    ...(client.dns ?? []).map((value) => ({ type: 2, value })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  return signLeaf(
    issuer,
    buildName([
      ['O', DEV_ORGANIZATION],
      ['CN', client.name],
    ]),
    extensions,
    now,
  );
}

/** The whole set: a fresh CA, one server certificate and one certificate per client. */
export function generateDevMaterial(spec: DevMaterialSpec): DevMaterial {
  const now = spec.now ?? new Date();
  const { issuer, certPem, keyPem } = generateCa(now);
  return {
    ca: { certPem, keyPem },
    server: generateServerCert(issuer, spec.hosts, now),
    clients: spec.clients.map((c) => ({ ...c, ...generateClientCert(issuer, c, now) })),
  };
}
