// Issuer-scoped allow rules: the `issuer=<DN>;<value>` flag form, name comparison, and the trusted issuers a bare
// serial may mean.
//
// Serial numbers are unique only per issuer name (RFC 5280 §4.1.2.2), so a serial rule means something only together
// with an issuer: written on the rule, or implied when exactly one CA name is trusted.
import type { X509Certificate } from 'node:crypto';
import { tryComputeIdentity } from '../identity/identity.js';
import type { Identity, NameAttribute } from '../identity/types.js';
import type { ParsedAttribute } from './parse-dn.js';

/** The distinct subject names of the loaded client CAs (a CA's issued serials are unique under its name). */
export interface TrustedIssuers {
  names: { text: string; rdns: NameAttribute[][] }[];
}

/** Distinct CA subject names, in bundle order; a CA whose DER the identity reader refuses is named by Node's text. */
export function trustedIssuersOf(caCerts: readonly X509Certificate[]): TrustedIssuers {
  const names: TrustedIssuers['names'] = [];
  for (const ca of caCerts) {
    const id = tryComputeIdentity(ca);
    const text = id?.subject ?? ca.subject.replace(/\n/g, ',');
    if (names.some((n) => n.text === text)) continue;
    names.push({ text, rdns: id?.subjectRdns ?? [] });
  }
  return { names };
}

function sameRdn(a: readonly ParsedAttribute[], b: readonly NameAttribute[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map((x) => `${x.oid}=${x.value}`).sort();
  const right = b.map((x) => `${x.oid}=${x.value}`).sort();
  return left.every((v, i) => v === right[i]);
}

/** RDN by RDN, in order; attribute types by OID, values exactly, a multi-valued RDN in any order. */
export function sameName(
  rule: readonly (readonly ParsedAttribute[])[],
  name: readonly (readonly NameAttribute[])[],
): boolean {
  return name.length === rule.length && rule.every((rdn, i) => sameRdn(rdn, name[i] ?? []));
}

const FLAG_PREFIX = 'issuer=';

/**
 * Splits a flag value `issuer=<RFC 4514 DN>;<value>` at the first `;` not escaped by `\` (RFC 4514 requires `;` in
 * a DN value to be escaped). A value not starting with `issuer=` is a plain rule value. Null: prefix without `;`.
 */
export function splitIssuerFlag(raw: string): { issuer?: string; value: string } | null {
  if (!raw.startsWith(FLAG_PREFIX)) return { value: raw };
  for (let i = FLAG_PREFIX.length; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\') i++;
    else if (ch === ';') return { issuer: raw.slice(FLAG_PREFIX.length, i), value: raw.slice(i + 1) };
  }
  return null;
}

/** How to write a serial rule for each trusted issuer, for the message that refuses a bare one. */
function describeScopedSerialForms(serial: string, issuers: TrustedIssuers, flag: boolean): string {
  const forms = issuers.names.map((n) =>
    flag
      ? `--allow-serial ${JSON.stringify(`issuer=${n.text};${serial}`)}`
      : `{ serial: "${serial}", issuer: ${JSON.stringify(n.text)} }`,
  );
  return forms.join(' or ');
}

/**
 * A serial rule without an issuer: scoped to the one trusted CA name, refused (with the forms to write) when there are
 * several.
 */
export function scopeBareSerial(
  rule: { serial?: string; issuer?: string },
  trust: TrustedIssuers | undefined,
  flag: boolean,
): ((id: Identity) => boolean) | string | null {
  if (rule.serial === undefined || rule.issuer !== undefined || trust === undefined) return null;
  const [only, ...others] = trust.names;
  if (only !== undefined && others.length === 0) return (id) => sameName(only.rdns, id.issuerRdns);
  if (only === undefined) return null;
  const names = trust.names.map((n) => n.text).join('; ');
  return `serial numbers are unique only per issuer, and --client-ca trusts ${trust.names.length} CA names (${names}); name the issuer: ${describeScopedSerialForms(rule.serial, trust, flag)}`;
}
