// The caller identity as the proxy sees it, computed once per TLS connection from the verified leaf.

/** One attribute of a distinguished name, value decoded to a JS (Unicode) string. */
export interface NameAttribute {
  /** Short name when known (CN, OU, O, L, ST, C, STREET, DC, UID, emailAddress, serialNumber…), else the dotted OID. */
  type: string;
  oid: string;
  value: string;
}

export interface Identity {
  /** RFC 4514 subject, most specific RDN first, printable ASCII only (non-ASCII as \XX of UTF-8). */
  subject: string;
  /** RDNs most specific first; each RDN is a set of attributes (multi-valued RDNs joined with '+'). */
  subjectRdns: NameAttribute[][];
  /** RFC 4514 issuer string (the leaf's issuer name), same rules as `subject`. */
  issuer: string;
  /** The issuer name's RDNs, most specific first, for issuer-scoped allow rules. */
  issuerRdns: NameAttribute[][];
  /**
   * The subject's common name when it has exactly one CN attribute (a string), else empty: a subject with several
   * CNs has no CN for `cn` rules or X-Client-CN, so admission and the forwarded CN can never disagree.
   */
  commonNames: string[];
  orgUnits: string[];
  orgs: string[];
  /** The CN of `commonNames` escaped exactly as in the subject (`Zoë` → `Zo\C3\AB`); '' when there is none. */
  cnEscaped: string;
  /** SANs, parsed from the DER extension (never from Node's subjectaltname string). Raw decoded values. */
  dns: string[];
  /** URI SANs that may stand for the caller (uri-san.ts); the others are in `ignoredUris`. */
  uris: string[];
  /** URI SANs left out of the identity (an invalid SPIFFE ID, userinfo): never matched, never forwarded. */
  ignoredUris: string[];
  emails: string[];
  ips: string[];
  /** Uppercase hex, no colons, as `openssl x509 -serial` prints it (two's complement bytes of the DER INTEGER). */
  serial: string;
  /** SHA-256 of the DER, lowercase hex, no colons. */
  fingerprint256: string;
  notBefore: Date;
  notAfter: Date;
  /** Extended key usage names (`clientAuth`, `serverAuth`, …) or dotted OIDs; empty when the extension is absent. */
  extKeyUsage: string[];
  /** DER of the leaf, for `--forward-cert`. */
  der: Buffer;
}
