// Parses PEM CRLs with the bounds-checked DER reader and ties each one to the loaded CA whose key signed it.
import { constants, verify, type X509Certificate } from 'node:crypto';
import {
  DerError,
  TAG_BOOLEAN,
  TAG_INTEGER,
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
} from '../identity/der.js';
import { formatSerial } from '../identity/identity.js';
import { formatRfc4514, readName } from '../identity/rfc4514.js';
import { splitPem } from './pem.js';

/** Uppercase hex without colons or leading zeros, padded to whole bytes, so serials from any source compare equal. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toUpperCase();
  const sign = hex.startsWith('-') ? '-' : '';
  const trimmed = hex.slice(sign.length).replace(/^0+/, '');
  if (trimmed === '') return '00';
  return sign + (trimmed.length % 2 === 1 ? `0${trimmed}` : trimmed);
}

export interface ParsedCrl {
  /** The loaded CA whose key signed this CRL. */
  issuer: X509Certificate;
  /** RFC 4514 form of the CRL's issuer name (the metric label and log field). */
  issuerName: string;
  /** Serials (uppercase hex, no leading zero bytes) revoked by this CRL. */
  revokedSerials: ReadonlySet<string>;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** The cRLNumber extension (RFC 5280 5.2.3), which grows with every CRL an issuer publishes; null when absent. */
  crlNumber: bigint | null;
}

const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const SIGNATURE_HASHES: ReadonlyMap<string, string | null> = new Map([
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  // Ed25519 and Ed448 sign the message itself: no separate digest.
  ['1.3.101.112', null],
  ['1.3.101.113', null],
]);
const HASH_OIDS: ReadonlyMap<string, string> = new Map([
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);
// Extensions this reader understands. Anything else marked critical must make the CRL unusable (RFC 5280 5.2).
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
const OID_CERTIFICATE_ISSUER = '2.5.29.29';
const OID_ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
const OID_CRL_NUMBER = '2.5.29.20';
const REFUSED_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  [OID_DELTA_CRL_INDICATOR, 'is a delta CRL; give the complete (base) CRL'],
  [OID_CERTIFICATE_ISSUER, 'is an indirect CRL (entries for another issuer); give the CRL each CA signs itself'],
]);
// A scoped CRL (only user certs, some reasons) still lists only serials its issuer revoked, so applying it to
// every certificate of that issuer never admits a revoked caller; indirect entries are refused above.
const UNDERSTOOD_CRITICAL = new Set([OID_ISSUING_DISTRIBUTION_POINT]);

interface SignatureScheme {
  hash: string | null;
  pss?: { saltLength: number };
}

function readSignatureScheme(algorithm: DerNode): SignatureScheme {
  const [oidNode, params] = readChildren(expectUniversal(algorithm, TAG_SEQUENCE, 'an AlgorithmIdentifier'));
  const oid = readOid(expectUniversal(oidNode, 0x06, 'an algorithm OID'));
  if (oid === OID_RSA_PSS) return readPssParams(params);
  const hash = SIGNATURE_HASHES.get(oid);
  if (hash === undefined) {
    const sha1 = oid === '1.2.840.113549.1.1.5' || oid === '1.2.840.10045.4.1';
    throw new Error(
      sha1
        ? 'is signed with SHA-1; re-issue it with SHA-256 or stronger'
        : `uses an unsupported signature algorithm (${oid})`,
    );
  }
  return { hash };
}

function readPssParams(params: DerNode | undefined): SignatureScheme {
  // RFC 4055 defaults are SHA-1 and salt 20; we only accept an explicit SHA-2 hash.
  let hash: string | undefined;
  let saltLength = 20;
  for (const field of params ? readChildren(expectUniversal(params, TAG_SEQUENCE, 'RSASSA-PSS parameters')) : []) {
    const inner = readChildren(field)[0];
    if (isContext(field, 0) && inner) hash = HASH_OIDS.get(readOid(readChildren(inner)[0] as DerNode));
    if (isContext(field, 2) && inner)
      saltLength = readIntegerBytes(inner).readUIntBE(0, Math.min(inner.value.length, 4));
  }
  if (hash === undefined) throw new Error('is signed with RSASSA-PSS over a hash other than SHA-256/384/512');
  return { hash, pss: { saltLength } };
}

/** Checks the extensions of a CRL or an entry; returns the cRLNumber when there is one. */
function checkExtensions(node: DerNode | undefined, where: string): bigint | null {
  if (!node) return null;
  let crlNumber: bigint | null = null;
  for (const ext of readChildren(expectUniversal(node, TAG_SEQUENCE, `${where} extensions`))) {
    const [oidNode, second, third] = readChildren(expectUniversal(ext, TAG_SEQUENCE, 'an extension'));
    const oid = readOid(expectUniversal(oidNode, 0x06, 'an extension OID'));
    const critical = second !== undefined && isUniversal(second, TAG_BOOLEAN) && second.value[0] !== 0;
    const refused = REFUSED_EXTENSIONS.get(oid);
    if (refused) throw new Error(refused);
    if (critical && !UNDERSTOOD_CRITICAL.has(oid))
      throw new Error(`has an unknown critical ${where} extension (${oid}); it cannot be applied safely`);
    if (oid === OID_CRL_NUMBER && where === 'CRL') {
      const value = second !== undefined && isUniversal(second, TAG_BOOLEAN) ? third : second;
      const bytes = readIntegerBytes(readSingleNode(expectUniversal(value, 0x04, 'a cRLNumber value').value));
      crlNumber = BigInt(`0x${bytes.toString('hex')}`);
    }
  }
  return crlNumber;
}

interface CrlFields {
  tbs: DerNode;
  scheme: SignatureScheme;
  signature: Buffer;
  issuerDer: Buffer;
  issuerName: string;
  thisUpdate: Date;
  nextUpdate: Date | null;
  serials: Set<string>;
  crlNumber: bigint | null;
}

function readCrlFields(der: Buffer): CrlFields {
  const [tbs, outerAlg, sigBits, extra] = readChildren(
    expectUniversal(readSingleNode(der), TAG_SEQUENCE, 'a CertificateList'),
  );
  if (!tbs || !outerAlg || !sigBits || extra) throw new DerError('DER: a CertificateList has three elements');
  const fields = readChildren(expectUniversal(tbs, TAG_SEQUENCE, 'a TBSCertList'));
  let i = 0;
  if (fields[i] && isUniversal(fields[i] as DerNode, TAG_INTEGER)) i += 1; // version (v2)
  const innerAlg = expectUniversal(fields[i++], TAG_SEQUENCE, 'the TBSCertList signature algorithm');
  if (!innerAlg.raw.equals(outerAlg.raw)) throw new Error('names two different signature algorithms (malformed)');
  const issuer = expectUniversal(fields[i++], TAG_SEQUENCE, 'the issuer name');
  const thisUpdate = readTime(fields[i++] as DerNode);
  let nextUpdate: Date | null = null;
  const maybeNext = fields[i];
  if (maybeNext && (isUniversal(maybeNext, 0x17) || isUniversal(maybeNext, 0x18))) {
    nextUpdate = readTime(maybeNext);
    i += 1;
  }
  const serials = new Set<string>();
  const maybeRevoked = fields[i];
  if (maybeRevoked && isUniversal(maybeRevoked, TAG_SEQUENCE)) {
    for (const entry of readChildren(maybeRevoked)) {
      const [serial, date, entryExts] = readChildren(expectUniversal(entry, TAG_SEQUENCE, 'a revoked entry'));
      serials.add(normalizeSerial(formatSerial(readIntegerBytes(expectUniversal(serial, TAG_INTEGER, 'a serial')))));
      readTime(date as DerNode);
      checkExtensions(entryExts, 'entry');
    }
    i += 1;
  }
  const maybeExts = fields[i];
  const crlNumber = maybeExts && isContext(maybeExts, 0) ? checkExtensions(readChildren(maybeExts)[0], 'CRL') : null;
  if (sigBits.tagNumber !== 0x03 || sigBits.value.length < 2 || sigBits.value[0] !== 0)
    throw new DerError('DER: bad signature BIT STRING');
  return {
    tbs,
    scheme: readSignatureScheme(outerAlg),
    signature: sigBits.value.subarray(1),
    issuerDer: issuer.raw,
    issuerName: formatRfc4514(readName(issuer)),
    thisUpdate,
    nextUpdate,
    serials,
    crlNumber,
  };
}

function signedBy(fields: CrlFields, ca: X509Certificate): boolean {
  const { scheme } = fields;
  const key = scheme.pss
    ? { key: ca.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pss.saltLength }
    : ca.publicKey;
  try {
    return verify(scheme.hash, fields.tbs.raw, key, fields.signature);
  } catch {
    // A key type that does not fit the algorithm (an EC key for an RSA signature) is simply not the signer.
    return false;
  }
}

/** The subject Name DER of a certificate (TBSCertificate field 6, after the optional [0] version). */
function subjectDerOf(cert: X509Certificate): Buffer | null {
  try {
    const [tbs] = readChildren(readSingleNode(cert.raw));
    const fields = readChildren(tbs as DerNode);
    const offset = fields[0] && isContext(fields[0], 0) ? 1 : 0;
    return (fields[offset + 4] as DerNode).raw;
  } catch {
    return null;
  }
}

/** Every CRL block of a PEM file, each verified against the loaded CAs; throws a message naming what is wrong. */
export function parseCrlPem(text: string, caCerts: readonly X509Certificate[]): ParsedCrl[] {
  const blocks = splitPem(text).filter((b) => b.label === 'X509 CRL');
  if (blocks.length === 0)
    throw new Error('contains no PEM "X509 CRL" block; give a PEM CRL (openssl crl -inform DER -out crl.pem)');
  return blocks.map((block, n) => {
    const body = block.text.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
    let fields: CrlFields;
    try {
      fields = readCrlFields(Buffer.from(body, 'base64'));
    } catch (err) {
      // Our own messages say what to fix; anything the walk tripped over (a missing field) is just malformed.
      const malformed = err instanceof DerError || err instanceof TypeError || err instanceof RangeError;
      const why = malformed ? 'does not parse as a CRL' : (err as Error).message;
      throw new Error(`CRL #${n + 1} ${why}`);
    }
    // Prefer the CA whose subject is the CRL's issuer name; the signature decides either way.
    const named = caCerts.filter((ca) => subjectDerOf(ca)?.equals(fields.issuerDer));
    const issuer = [...named, ...caCerts.filter((ca) => !named.includes(ca))].find((ca) => signedBy(fields, ca));
    if (!issuer) {
      throw new Error(
        `CRL #${n + 1} (issuer "${fields.issuerName}") is signed by no --client-ca certificate; add the CA that issued it to --client-ca, or remove the CRL`,
      );
    }
    return {
      issuer,
      issuerName: fields.issuerName,
      revokedSerials: fields.serials,
      thisUpdate: fields.thisUpdate,
      nextUpdate: fields.nextUpdate,
      crlNumber: fields.crlNumber,
    };
  });
}
