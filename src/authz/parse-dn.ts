// Parses an RFC 4514 distinguished-name string (an `--allow-subject` rule) into attributes comparable with
// Identity.subjectRdns.
//
// Tolerated: attribute type names in any case, dotted OIDs (optionally `OID.`-prefixed), unescaped whitespace
// around `=`, `,` and `+`, `\XX` hex escapes (UTF-8 bytes) and `#hex` BER values of the usual string types.
// Refused: unescaped `"`, `;`, `<`, `>`, a dangling `\`, unknown attribute names, empty RDNs.

export interface ParsedAttribute {
  oid: string;
  value: string;
}

/** Attribute short names (upper case) → OID; aliases included so `S=`, `E=` and `emailAddress=` all work. */
const NAME_TO_OID: Record<string, string> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SURNAME: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  T: '2.5.4.12',
  TITLE: '2.5.4.12',
  BUSINESSCATEGORY: '2.5.4.15',
  POSTALCODE: '2.5.4.17',
  NAME: '2.5.4.41',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  INITIALS: '2.5.4.43',
  GENERATIONQUALIFIER: '2.5.4.44',
  DNQUALIFIER: '2.5.4.46',
  PSEUDONYM: '2.5.4.65',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
  EMAIL: '1.2.840.113549.1.9.1',
};

const OID_RE = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const WS = ' \t\r\n';

function resolveType(name: string): string | null {
  const oid = /^oid\./i.test(name) ? name.slice(4) : name;
  if (OID_RE.test(oid)) return oid;
  return NAME_TO_OID[name.toUpperCase()] ?? null;
}

/** Decodes the content of a DER string value (`#…` form); null for types we do not read. */
function decodeBerString(hex: string): string | null {
  if (hex.length < 4 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  const bytes = Buffer.from(hex, 'hex');
  const tag = bytes[0] as number;
  let len = bytes[1] as number;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || bytes.length < 2 + n) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (bytes[2 + i] as number);
    off = 2 + n;
  }
  if (off + len !== bytes.length) return null;
  const body = bytes.subarray(off);
  switch (tag) {
    case 0x0c: // UTF8String
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString, read as Latin-1 like OpenSSL does
      return body.toString('latin1');
    case 0x1e: // BMPString
      return body.length % 2 === 0 ? Buffer.from(body).swap16().toString('utf16le') : null;
    default:
      return null;
  }
}

/** Reads an escaped string value starting at `i`; stops before an unescaped `,` or `+`. */
function readValue(s: string, start: number): { value: string; end: number } | string {
  const bytes: number[] = [];
  let i = start;
  // Index in `bytes` after the last escaped or non-space byte, so unescaped trailing spaces are dropped.
  let keep = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (ch === ',' || ch === '+') break;
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined) return 'ends with a dangling "\\"';
      const hex = s.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 3;
      } else if (' "#+,;<=>\\'.includes(next)) {
        bytes.push(next.charCodeAt(0));
        i += 2;
      } else {
        return `has an invalid escape "\\${next}"`;
      }
      keep = bytes.length;
      continue;
    }
    if ('";<>'.includes(ch)) return `has an unescaped "${ch}" (escape it as "\\${ch}")`;
    const cp = s.codePointAt(i) as number;
    const char = String.fromCodePoint(cp);
    if (cp < 0x20 && !WS.includes(char)) return 'contains a control character';
    for (const b of Buffer.from(char, 'utf8')) bytes.push(b);
    i += char.length;
    if (!WS.includes(ch)) keep = bytes.length;
  }
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.from(bytes.slice(0, keep)));
  } catch {
    return 'has \\XX escapes that are not valid UTF-8';
  }
  return { value, end: i };
}

/** Parses a DN string; returns RDNs (most specific first, as written) or a reason it cannot be parsed. */
export function parseDistinguishedName(dn: string): ParsedAttribute[][] | string {
  const rdns: ParsedAttribute[][] = [];
  let rdn: ParsedAttribute[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < dn.length && WS.includes(dn[i] as string)) i++;
  };
  skipWs();
  if (i >= dn.length) return 'is empty';
  for (;;) {
    skipWs();
    const eq = dn.indexOf('=', i);
    if (eq === -1) return `has no "=" after "${dn.slice(i, i + 20)}"`;
    const name = dn.slice(i, eq).trim();
    if (name === '') return 'has an attribute with no type before "="';
    const oid = resolveType(name);
    if (!oid)
      return `has an unknown attribute type "${name}" (use CN, OU, O, L, ST, C, DC, UID, emailAddress… or a dotted OID)`;
    i = eq + 1;
    skipWs();
    let value: string;
    if (dn[i] === '#') {
      let j = i + 1;
      while (j < dn.length && /[0-9a-fA-F]/.test(dn[j] as string)) j++;
      const decoded = decodeBerString(dn.slice(i + 1, j));
      if (decoded === null) return `has a "#" value for ${name} that is not a DER string`;
      value = decoded;
      i = j;
      skipWs();
    } else {
      const read = readValue(dn, i);
      if (typeof read === 'string') return `${name} value ${read}`;
      value = read.value;
      i = read.end;
    }
    rdn.push({ oid, value });
    if (i >= dn.length) break;
    const sep = dn[i];
    i++;
    if (sep === ',') {
      rdns.push(rdn);
      rdn = [];
    } else if (sep !== '+') {
      return `has unexpected "${sep}" after the ${name} value`;
    }
    skipWs();
    if (i >= dn.length) return `ends with a dangling "${sep}"`;
  }
  rdns.push(rdn);
  return rdns;
}
