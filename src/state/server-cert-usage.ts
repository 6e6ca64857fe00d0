// Whether a server certificate can serve TLS at all: TLS clients refuse one whose extended key usage leaves out
// serverAuth, or whose key usage leaves out what the handshake signs with (RFC 5280 §4.2.1.3, §4.2.1.12).
import {
  DerError,
  TAG_BOOLEAN,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  expectUniversal,
  isContext,
  isUniversal,
  readChildren,
  readOid,
  readSingleNode,
} from '../identity/der.js';
import { ekuName } from '../identity/identity.js';

const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_ANY = '2.5.29.37.0';
/** keyUsage bit 0 (digitalSignature) is the top bit of the first byte after the unused-bits count. */
const KU_DIGITAL_SIGNATURE = 0x80;

/** The DER values of the extensions of a certificate, by OID. */
function extensionValues(der: Buffer): Map<string, Buffer> {
  const [tbs] = readChildren(expectUniversal(readSingleNode(der), TAG_SEQUENCE, 'a Certificate'));
  const wrapper = readChildren(expectUniversal(tbs, TAG_SEQUENCE, 'a TBSCertificate')).find(
    (f) => isContext(f, 3) && f.constructed,
  );
  const values = new Map<string, Buffer>();
  if (!wrapper) return values;
  for (const ext of readChildren(expectUniversal(readChildren(wrapper)[0], TAG_SEQUENCE, 'Extensions'))) {
    const parts = readChildren(expectUniversal(ext, TAG_SEQUENCE, 'an Extension'));
    const oid = readOid(expectUniversal(parts[0], TAG_OID, 'an extension OID'));
    const valueNode = parts[1] && isUniversal(parts[1], TAG_BOOLEAN) ? parts[2] : parts[1];
    values.set(oid, expectUniversal(valueNode, TAG_OCTET_STRING, 'an extension value').value);
  }
  return values;
}

/**
 * Why this server certificate (DER) cannot serve TLS, one sentence each with the fix; [] when it can, or when it
 * does not parse (material loading reports that).
 */
export function serverCertUsageProblems(der: Buffer): string[] {
  let exts: Map<string, Buffer>;
  try {
    exts = extensionValues(der);
  } catch (err) {
    if (err instanceof DerError || err instanceof TypeError || err instanceof RangeError) return [];
    throw err;
  }
  const problems: string[] = [];
  const eku = exts.get(OID_EXT_KEY_USAGE);
  if (eku) {
    const oids = readChildren(expectUniversal(readSingleNode(eku), TAG_SEQUENCE, 'ExtKeyUsageSyntax')).map(readOid);
    if (!oids.includes(EKU_SERVER_AUTH) && !oids.includes(EKU_ANY)) {
      const named = oids.map(ekuName).join(', ') || 'empty';
      problems.push(
        `its extended key usage is ${named}, without serverAuth: TLS clients (curl, browsers, Go, Node) refuse it as a server certificate; issue it with extendedKeyUsage = serverAuth`,
      );
    }
  }
  const ku = exts.get(OID_KEY_USAGE);
  if (ku) {
    const bits = readSingleNode(ku);
    const first = bits.value.length > 1 ? (bits.value[1] ?? 0) : 0;
    if ((first & KU_DIGITAL_SIGNATURE) === 0) {
      problems.push(
        'its key usage lacks digitalSignature, which every TLS 1.3 and ECDHE handshake signs with; issue it with keyUsage = digitalSignature (and keyEncipherment for RSA)',
      );
    }
  }
  return problems;
}
