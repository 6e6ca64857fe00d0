// Turns a certificate into the Identity the proxy judges and forwards, reading every field from the DER.
import { createHash, type X509Certificate } from 'node:crypto';
import type { Identity } from './types.js';
import {
  DerError,
  TAG_BOOLEAN,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  expectUniversal,
  isContext,
  isUniversal,
  readChildren,
  readIntegerBytes,
  readOid,
  readSingleNode,
  readTime,
  type DerNode,
} from './der.js';
import { escapeRfc4514Value, formatRfc4514, readName, type DerNameAttribute } from './rfc4514.js';
import { uriSanProblem } from './uri-san.js';

export { DerError } from './der.js';

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_CN = '2.5.4.3';
const OID_OU = '2.5.4.11';
const OID_O = '2.5.4.10';

const EKU_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.3.6.1.5.5.7.3.1', 'serverAuth'],
  ['1.3.6.1.5.5.7.3.2', 'clientAuth'],
  ['1.3.6.1.5.5.7.3.3', 'codeSigning'],
  ['1.3.6.1.5.5.7.3.4', 'emailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'timeStamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
  ['1.3.6.1.5.5.7.3.17', 'ipsecIKE'],
  ['2.5.29.37.0', 'anyExtendedKeyUsage'],
]);

/**
 * The serial exactly as `openssl x509 -noout -serial` prints it: uppercase hex of the magnitude in whole
 * bytes (the DER sign byte 00 dropped), '-' in front of a negative serial, and '00' for zero.
 */
export function formatSerial(content: Buffer): string {
  const negative = ((content[0] as number) & 0x80) !== 0;
  let n = BigInt(`0x${content.toString('hex')}`);
  if (negative) n = (1n << BigInt(content.length * 8)) - n;
  let hex = n.toString(16).toUpperCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return negative ? `-${hex}` : hex;
}

/**
 * IP SANs as `openssl x509 -text` shows them: IPv4 dotted, IPv6 as eight uppercase hex groups without
 * leading zeros and without `::` compression (`0:0:0:0:0:0:0:1`). Other lengths are not addresses: null.
 */
export function formatIpAddress(bytes: Buffer): string | null {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return null;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16).toUpperCase());
  return groups.join(':');
}

interface SanLists {
  dns: string[];
  uris: string[];
  emails: string[];
  ips: string[];
}

function readSubjectAltNames(extnValue: Buffer, into: SanLists): void {
  const names = expectUniversal(readSingleNode(extnValue), TAG_SEQUENCE, 'GeneralNames');
  for (const gn of readChildren(names)) {
    // Implicitly tagged IA5String choices; Latin-1 keeps one character per byte, so nothing is dropped or merged.
    if (gn.constructed) continue;
    if (isContext(gn, 1)) into.emails.push(gn.value.toString('latin1'));
    else if (isContext(gn, 2)) into.dns.push(gn.value.toString('latin1'));
    else if (isContext(gn, 6)) into.uris.push(gn.value.toString('latin1'));
    else if (isContext(gn, 7)) {
      const ip = formatIpAddress(gn.value);
      if (ip !== null) into.ips.push(ip);
    }
  }
}

/** The usual name of an extended key usage OID (`clientAuth`), or the OID itself. */
export function ekuName(oid: string): string {
  return EKU_NAMES.get(oid) ?? oid;
}

function readExtKeyUsage(extnValue: Buffer): string[] {
  const seq = expectUniversal(readSingleNode(extnValue), TAG_SEQUENCE, 'ExtKeyUsageSyntax');
  return readChildren(seq).map((n) => {
    return ekuName(readOid(n));
  });
}

interface ParsedExtensions extends SanLists {
  extKeyUsage: string[];
}

function readExtensions(wrapper: DerNode | undefined): ParsedExtensions {
  const out: ParsedExtensions = { dns: [], uris: [], emails: [], ips: [], extKeyUsage: [] };
  if (!wrapper) return out;
  const [list, extra] = readChildren(wrapper);
  if (extra) throw new DerError('DER: malformed extensions wrapper');
  const seen = new Set<string>();
  for (const ext of readChildren(expectUniversal(list, TAG_SEQUENCE, 'Extensions'))) {
    const parts = readChildren(expectUniversal(ext, TAG_SEQUENCE, 'an Extension'));
    const oid = readOid(expectUniversal(parts[0], TAG_OID, 'an extension OID'));
    const valueNode = parts[1] && isUniversal(parts[1], TAG_BOOLEAN) ? parts[2] : parts[1];
    const extnValue = expectUniversal(valueNode, TAG_OCTET_STRING, 'an extension value').value;
    // RFC 5280 forbids repeating an extension; taking either copy would let a crafted cert choose its identity.
    if (seen.has(oid)) throw new DerError(`DER: duplicate extension ${oid}`);
    seen.add(oid);
    if (oid === OID_SUBJECT_ALT_NAME) readSubjectAltNames(extnValue, out);
    else if (oid === OID_EXT_KEY_USAGE) out.extKeyUsage = readExtKeyUsage(extnValue);
  }
  return out;
}

function pickValues(rdns: DerNameAttribute[][], oid: string): string[] {
  // Non-string values never match an allow rule, so they are left out of the lists rules compare against.
  return rdns
    .flat()
    .filter((a) => a.oid === oid && a.isString !== false)
    .map((a) => a.value);
}

/** Identity from a certificate's DER; throws DerError on anything malformed. */
export function computeIdentityFromDer(der: Buffer): Identity {
  const cert = expectUniversal(readSingleNode(der), TAG_SEQUENCE, 'a Certificate');
  const [tbs] = readChildren(cert);
  const fields = readChildren(expectUniversal(tbs, TAG_SEQUENCE, 'a TBSCertificate'));
  let i = fields[0] && isContext(fields[0], 0) ? 1 : 0;
  const serialNode = expectUniversal(fields[i++], TAG_INTEGER, 'a serial number');
  expectUniversal(fields[i++], TAG_SEQUENCE, 'a signature algorithm');
  const issuerNode = fields[i++];
  const validity = readChildren(expectUniversal(fields[i++], TAG_SEQUENCE, 'a Validity'));
  const subjectNode = fields[i++];
  expectUniversal(fields[i++], TAG_SEQUENCE, 'a SubjectPublicKeyInfo');
  const extWrapper = fields.slice(i).find((f) => isContext(f, 3) && f.constructed);
  if (!issuerNode || !subjectNode || validity.length !== 2) throw new DerError('DER: malformed TBSCertificate');

  const subjectRdns = readName(subjectNode);
  const issuerRdns = readName(issuerNode);
  const ext = readExtensions(extWrapper);
  // Several CN attributes (`CN=mallory,CN=admin`, `CN=mallory+CN=admin`): which one is "the" CN depends on who
  // reads it, so there is none; the subject still carries them all.
  const cnCount = subjectRdns.flat().filter((a) => a.oid === OID_CN).length;
  const commonNames = cnCount === 1 ? pickValues(subjectRdns, OID_CN) : [];
  const firstCn = commonNames[0];
  const copy = Buffer.from(der);
  return {
    subject: formatRfc4514(subjectRdns),
    subjectRdns: subjectRdns.map((rdn) => rdn.map(({ type, oid, value }) => ({ type, oid, value }))),
    issuer: formatRfc4514(issuerRdns),
    issuerRdns: issuerRdns.map((rdn) => rdn.map(({ type, oid, value }) => ({ type, oid, value }))),
    commonNames,
    orgUnits: pickValues(subjectRdns, OID_OU),
    orgs: pickValues(subjectRdns, OID_O),
    cnEscaped: firstCn === undefined ? '' : escapeRfc4514Value(firstCn),
    dns: ext.dns,
    uris: ext.uris.filter((u) => uriSanProblem(u) === null),
    ignoredUris: ext.uris.filter((u) => uriSanProblem(u) !== null),
    emails: ext.emails,
    ips: ext.ips,
    serial: formatSerial(readIntegerBytes(serialNode)),
    fingerprint256: createHash('sha256').update(copy).digest('hex'),
    notBefore: readTime(validity[0] as DerNode),
    notAfter: readTime(validity[1] as DerNode),
    extKeyUsage: ext.extKeyUsage,
    der: copy,
  };
}

/** Identity of a (verified) certificate; throws DerError when its DER cannot be read. */
export function computeIdentity(cert: X509Certificate): Identity {
  return computeIdentityFromDer(cert.raw);
}

/** Like computeIdentity but never throws: null means "no usable identity", which callers must refuse. */
export function tryComputeIdentity(cert: X509Certificate | Buffer): Identity | null {
  try {
    return computeIdentityFromDer(Buffer.isBuffer(cert) ? cert : cert.raw);
  } catch {
    return null;
  }
}
