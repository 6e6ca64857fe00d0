// Builds and reads the CRL that `certs revoke` and `certs crl` maintain: entries kept, crlNumber increasing, signed by
// the CA (pkijs).
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const OID_CRL_NUMBER = '2.5.29.20';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_SUBJECT_KEY_ID = '2.5.29.14';
const DAY_MS = 24 * 60 * 60 * 1000;

/** How long a CRL is declared current when no `--days` is given (the `openssl ca` default, `default_crl_days`). */
export const DEFAULT_CRL_DAYS = 30;

export interface RevokedEntry {
  /** The serial's DER INTEGER content bytes, as hex (lower case), copied from the certificate. */
  serialHex: string;
  revocationDate: Date;
}

export interface CrlState {
  crlNumber: bigint;
  entries: RevokedEntry[];
}

export interface CrlInput {
  caCertDer: Buffer;
  caKeyPem: string;
  entries: RevokedEntry[];
  crlNumber: bigint;
  now: Date;
  days: number;
}

let engineSet = false;
function useNodeCrypto(): void {
  if (engineSet) return;
  // pkijs is typed against the DOM's Crypto; Node's webcrypto implements it under its own type names.
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));
  engineSet = true;
}

/** RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050. */
function timeOf(date: Date): pkijs.Time {
  return new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? 0 : 1, value: date });
}

/** A copy of the bytes in a plain ArrayBuffer (what pkijs and WebCrypto take). */
function bytesOf(buf: Buffer): ArrayBuffer {
  return Uint8Array.from(buf).buffer;
}

/** The serial bytes of a DER INTEGER as lower-case hex (what RevokedEntry.serialHex holds). */
export function integerHex(value: asn1js.Integer): string {
  return Buffer.from(value.valueBlock.valueHexView).toString('hex');
}

/** Reads the entries and crlNumber of a CRL this module wrote (or any v2 CRL); a missing number reads as 0. */
export function readCrlState(der: Buffer): CrlState {
  const crl = pkijs.CertificateRevocationList.fromBER(bytesOf(der));
  const entries = (crl.revokedCertificates ?? []).map((r) => ({
    serialHex: integerHex(r.userCertificate),
    revocationDate: r.revocationDate.value,
  }));
  const numberExt = crl.crlExtensions?.extensions.find((e) => e.extnID === OID_CRL_NUMBER);
  let crlNumber = 0n;
  if (numberExt) {
    const parsed = asn1js.fromBER(numberExt.extnValue.valueBlock.valueHexView);
    if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Integer))
      throw new Error('has a CRL Number extension that is not an INTEGER');
    crlNumber = parsed.result.toBigInt();
  }
  return { crlNumber, entries };
}

function signingAlgorithm(key: KeyObject): { import: RsaHashedImportParams | EcKeyImportParams; hash: string } {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, hash: 'SHA-256' };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (named) return { import: { name: 'ECDSA', namedCurve: named }, hash: named === 'P-256' ? 'SHA-256' : 'SHA-384' };
  }
  throw new Error(`is a ${type ?? 'unknown'} key; a CRL can be signed with an RSA or an EC P-256/P-384 CA key`);
}

function authorityKeyId(ca: pkijs.Certificate): pkijs.Extension[] {
  const ski = ca.extensions?.find((e) => e.extnID === OID_SUBJECT_KEY_ID);
  if (!ski) return [];
  const keyId = asn1js.fromBER(ski.extnValue.valueBlock.valueHexView).result;
  if (!(keyId instanceof asn1js.OctetString)) return [];
  const aki = new pkijs.AuthorityKeyIdentifier({
    keyIdentifier: new asn1js.OctetString({ valueHex: keyId.valueBlock.valueHexView }),
  });
  return [
    new pkijs.Extension({ extnID: OID_AUTHORITY_KEY_ID, critical: false, extnValue: aki.toSchema().toBER(false) }),
  ];
}

/**
 * A v2 CRL: issuer copied byte for byte from the CA certificate's subject, thisUpdate now, nextUpdate `days` later,
 * the given entries in order, the Authority Key Identifier and the CRL Number, signed with the CA key. Returns DER.
 */
export async function buildCrl(input: CrlInput): Promise<Buffer> {
  useNodeCrypto();
  const ca = pkijs.Certificate.fromBER(bytesOf(input.caCertDer));
  const keyObject = createPrivateKey(input.caKeyPem);
  const algorithm = signingAlgorithm(keyObject);
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey('pkcs8', bytesOf(pkcs8), algorithm.import, false, ['sign']);
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = ca.subject;
  crl.thisUpdate = timeOf(input.now);
  crl.nextUpdate = timeOf(new Date(input.now.getTime() + input.days * DAY_MS));
  if (input.entries.length > 0) {
    crl.revokedCertificates = input.entries.map(
      (e) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: bytesOf(Buffer.from(e.serialHex, 'hex')) }),
          revocationDate: timeOf(e.revocationDate),
        }),
    );
  }
  const crlNumber = new pkijs.Extension({
    extnID: OID_CRL_NUMBER,
    critical: false,
    extnValue: asn1js.Integer.fromBigInt(input.crlNumber).toBER(false),
  });
  crl.crlExtensions = new pkijs.Extensions({ extensions: [...authorityKeyId(ca), crlNumber] });
  // A key from Node's webcrypto, which pkijs's DOM CryptoKey type does not name (see useNodeCrypto).
  await crl.sign(key as unknown as CryptoKey, algorithm.hash);
  return Buffer.from(crl.toSchema(true).toBER(false));
}

/** The serial bytes of a certificate (DER), as lower-case hex. */
export function certificateSerialHex(der: Buffer): string {
  return integerHex(pkijs.Certificate.fromBER(bytesOf(der)).serialNumber);
}

export function crlToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}
