// Finds, from DER alone, what makes a presented chain unacceptable whatever its issuer: weak keys and signatures,
// malformed or oversized certificates, CA rules broken.
import type { X509Certificate } from 'node:crypto';
import {
  DerError,
  TAG_BOOLEAN,
  TAG_OCTET_STRING,
  TAG_SEQUENCE,
  expectUniversal,
  isContext,
  isUniversal,
  readChildren,
  readOid,
  readSingleNode,
} from '../identity/der.js';

export type DefectKind = 'weak_key' | 'weak_signature' | 'bad_certificate' | 'invalid_chain';

export interface ChainDefect {
  kind: DefectKind;
  /** Which certificate (0 = leaf) and what is wrong, for the log; never certificate contents. */
  detail: string;
}

/**
 * RSA keys below this many bits, or EC keys on curves below MIN_EC_BITS, are refused (NIST SP 800-57: 112-bit
 * security).
 */
export const MIN_RSA_BITS = 2048;
export const MIN_EC_BITS = 224;
/**
 * A client certificate larger than this is refused: real ones are a few KiB, and Node cannot put a ~64 KiB one in a
 * session ticket.
 */
export const MAX_CERTIFICATE_BYTES = 32 * 1024;

const WEAK_SIGNATURES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsa-with-SHA1'],
  ['1.3.14.3.2.29', 'sha1WithRSA (OIW)'],
]);
const EC_CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  secp192k1: 192,
  prime192v1: 192,
  secp160r1: 160,
};
const OID_KEY_USAGE = '2.5.29.15';
const OID_NAME_CONSTRAINTS = '2.5.29.30';
/** Extensions OpenSSL acts on; a critical extension outside this set makes OpenSSL refuse the chain. */
const HANDLED_EXTENSIONS = new Set([
  '2.5.29.14',
  '2.5.29.15',
  '2.5.29.17',
  '2.5.29.18',
  '2.5.29.19',
  '2.5.29.30',
  '2.5.29.31',
  '2.5.29.32',
  '2.5.29.33',
  '2.5.29.35',
  '2.5.29.36',
  '2.5.29.37',
  '2.5.29.46',
  '2.5.29.54',
  '1.3.6.1.5.5.7.1.1',
  '1.3.6.1.5.5.7.1.3',
  '1.3.6.1.5.5.7.1.7',
  '1.3.6.1.5.5.7.1.8',
  '1.3.6.1.5.5.7.1.24',
  '1.3.6.1.5.5.7.1.14',
]);

interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** Signature algorithm OID and extensions of one certificate; throws DerError on malformed DER. */
function readCertificate(der: Buffer): { signatureOid: string; extensions: Extension[] } {
  const [tbs, sigAlg] = readChildren(expectUniversal(readSingleNode(der), TAG_SEQUENCE, 'a certificate'));
  const signatureOid = readOid(
    readChildren(expectUniversal(sigAlg, TAG_SEQUENCE, 'a signature algorithm'))[0] ??
      expectUniversal(undefined, 6, 'an OID'),
  );
  const extensions: Extension[] = [];
  for (const field of readChildren(expectUniversal(tbs, TAG_SEQUENCE, 'a TBSCertificate'))) {
    if (!isContext(field, 3)) continue;
    const [list] = readChildren(field);
    for (const ext of readChildren(expectUniversal(list, TAG_SEQUENCE, 'extensions'))) {
      const parts = readChildren(expectUniversal(ext, TAG_SEQUENCE, 'an extension'));
      const oid = readOid(expectUniversal(parts[0], 6, 'an extension OID'));
      const critical = parts.length === 3 && isUniversal(parts[1]!, TAG_BOOLEAN) && parts[1]!.value[0] !== 0;
      extensions.push({
        oid,
        critical,
        value: expectUniversal(parts.at(-1), TAG_OCTET_STRING, 'an extension value').value,
      });
    }
  }
  return { signatureOid, extensions };
}

function keyDefect(cert: X509Certificate, index: number): ChainDefect | null {
  const details = cert.publicKey.asymmetricKeyDetails;
  const type = cert.publicKey.asymmetricKeyType;
  if ((type === 'rsa' || type === 'rsa-pss' || type === 'dsa') && (details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return {
      kind: 'weak_key',
      detail: `certificate ${index}: ${type.toUpperCase()} key of ${details?.modulusLength ?? '?'} bits (at least ${MIN_RSA_BITS} required)`,
    };
  }
  if (type === 'ec') {
    const curve = details?.namedCurve ?? '';
    const bits = EC_CURVE_BITS[curve] ?? 0;
    if (bits < MIN_EC_BITS)
      return {
        kind: 'weak_key',
        detail: `certificate ${index}: EC key on ${curve || 'an unnamed curve'} (at least ${MIN_EC_BITS} bits required)`,
      };
  }
  return null;
}

/** keyUsage present without keyCertSign (bit 5) on a certificate that signed another one. */
function lacksKeyCertSign(ext: Extension | undefined): boolean {
  if (ext === undefined) return false;
  const bits = readSingleNode(ext.value).value;
  return bits.length <= 1 || ((bits[1] ?? 0) & 0x04) === 0;
}

/**
 * The first defect of the chain (leaf first), or null. `chain` is what the peer presented, in issuing order; the last
 * certificate, when self-signed, is a trust anchor whose own signature and key usage are not judged.
 */
export function findChainDefect(chain: readonly X509Certificate[]): ChainDefect | null {
  const anchorIndex = chain.length > 1 && chain.at(-1)!.checkIssued(chain.at(-1)!) ? chain.length - 1 : -1;
  for (const [index, cert] of chain.entries()) {
    if (index === 0 && cert.raw.length > MAX_CERTIFICATE_BYTES) {
      return {
        kind: 'bad_certificate',
        detail: `certificate ${index}: ${cert.raw.length} bytes (at most ${MAX_CERTIFICATE_BYTES})`,
      };
    }
    let parsed;
    try {
      parsed = readCertificate(cert.raw);
    } catch (err) {
      if (err instanceof DerError) return { kind: 'bad_certificate', detail: `certificate ${index}: malformed DER` };
      throw err;
    }
    const seen = new Set<string>();
    for (const ext of parsed.extensions) {
      if (seen.has(ext.oid))
        return { kind: 'bad_certificate', detail: `certificate ${index}: extension ${ext.oid} appears twice` };
      seen.add(ext.oid);
    }
    const key = keyDefect(cert, index);
    if (key) return key;
    const weak = WEAK_SIGNATURES.get(parsed.signatureOid);
    if (weak !== undefined && index !== anchorIndex)
      return { kind: 'weak_signature', detail: `certificate ${index}: signed with ${weak}` };
    const unknown = parsed.extensions.find((e) => e.critical && !HANDLED_EXTENSIONS.has(e.oid));
    if (unknown)
      return { kind: 'invalid_chain', detail: `certificate ${index}: unhandled critical extension ${unknown.oid}` };
    if (index > 0 && index !== anchorIndex) {
      try {
        if (lacksKeyCertSign(parsed.extensions.find((e) => e.oid === OID_KEY_USAGE))) {
          return { kind: 'invalid_chain', detail: `certificate ${index}: a CA without keyCertSign in its key usage` };
        }
      } catch {
        return { kind: 'bad_certificate', detail: `certificate ${index}: malformed key usage` };
      }
    }
  }
  return null;
}

/**
 * Why OpenSSL refused a chain with a code Node reports only as UNSPECIFIED (Node names a fixed list of codes): the
 * defect found above, else a name constraint (OpenSSL's name matching is not re-implemented here, only located).
 */
export function explainUnspecified(chain: readonly X509Certificate[]): ChainDefect | null {
  const defect = findChainDefect(chain);
  if (defect) return defect;
  const constrained = chain.slice(1).some((cert) => {
    try {
      return readCertificate(cert.raw).extensions.some((e) => e.oid === OID_NAME_CONSTRAINTS);
    } catch {
      return false;
    }
  });
  return constrained
    ? { kind: 'invalid_chain', detail: 'a name of the leaf is outside the name constraints of a CA of the chain' }
    : null;
}
