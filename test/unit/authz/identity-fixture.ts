// Hand-built Identity objects for pure allow-rule and policy tests (no certificate parsing involved).
import type { Identity, NameAttribute } from '../../../src/identity/types.js';

const OIDS: Record<string, string> = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  emailAddress: '1.2.840.113549.1.9.1',
};

/** `[['CN', 'orders'], ['OU', 'payments']]`: one single-valued RDN per pair, most specific first. */
export function rdns(...pairs: [string, string][][]): NameAttribute[][] {
  return pairs.map((rdn) => rdn.map(([type, value]) => ({ type, oid: OIDS[type] ?? type, value })));
}

export function makeIdentity(over: Partial<Identity> = {}): Identity {
  return {
    subject: 'CN=nobody',
    subjectRdns: rdns([['CN', 'nobody']]),
    issuer: 'CN=Test CA',
    issuerRdns: rdns([['CN', 'Test CA']]),
    commonNames: [],
    orgUnits: [],
    orgs: [],
    cnEscaped: '',
    dns: [],
    uris: [],
    ignoredUris: [],
    emails: [],
    ips: [],
    serial: '01',
    fingerprint256: '0'.repeat(64),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    extKeyUsage: ['clientAuth'],
    der: Buffer.alloc(0),
    ...over,
  };
}
