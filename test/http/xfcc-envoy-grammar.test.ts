// XFCC is one Envoy element that an independent parser reads back exactly, whatever bytes the certificate holds.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import type { Identity } from '../../src/identity/types.js';
import { formatXfcc } from '../../src/http/xfcc.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

type Element = Array<[string, string]>;

const PRINTABLE = /^[\x20-\x7e]*$/;

function hexValue(s: string, i: number): number {
  const h = s.slice(i, i + 2);
  if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw new Error(`bad escape at ${i} in ${s}`);
  return parseInt(h, 16);
}

/**
 * Envoy's grammar (elements split by `,`, pairs by `;`, key=value, `"`-quoted values with `\"`), plus the
 * SPEC's `\\` inside quotes and `\XX` bytes anywhere. Written from the grammar, not from the formatter.
 */
function parseXfcc(header: string): Element[] {
  const elements: Element[] = [];
  let pairs: Element = [];
  let i = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const eq = header.indexOf('=', i);
    if (eq < 0) throw new Error(`missing = after ${i}`);
    const key = header.slice(i, eq);
    if (!/^[A-Za-z]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    i = eq + 1;
    const bytes: number[] = [];
    if (header[i] === '"') {
      i++;
      for (;;) {
        const ch = header[i];
        if (ch === undefined) throw new Error('unterminated quote');
        if (ch === '"') { i++; break; }
        if (ch === '\\') {
          const next = header[i + 1];
          if (next === '"' || next === '\\') { bytes.push(next.charCodeAt(0)); i += 2; }
          else { bytes.push(hexValue(header, i + 1)); i += 3; }
          continue;
        }
        bytes.push(ch.charCodeAt(0));
        i++;
      }
    } else {
      for (;;) {
        const ch = header[i];
        if (ch === undefined || ch === ';' || ch === ',') break;
        if (ch === '"' || ch === '=') throw new Error(`${ch} in an unquoted value`);
        if (ch === '\\') { bytes.push(hexValue(header, i + 1)); i += 3; continue; }
        bytes.push(ch.charCodeAt(0));
        i++;
      }
    }
    pairs.push([key, Buffer.from(bytes).toString('utf8')]);
    const sep = header[i];
    if (sep === undefined) { elements.push(pairs); return elements; }
    if (sep === ',') { elements.push(pairs); pairs = []; }
    else if (sep !== ';') throw new Error(`unexpected ${sep} at ${i}`);
    i++;
  }
  throw new Error('parser guard tripped');
}

function fakeIdentity(over: Partial<Identity>): Identity {
  return {
    subject: 'CN=orders,O=Acme', subjectRdns: [], issuer: 'CN=ca', issuerRdns: [], commonNames: ['orders'], orgUnits: [], orgs: ['Acme'],
    cnEscaped: 'orders', dns: [], uris: [], ignoredUris: [], emails: [], ips: [], serial: '0A', fingerprint256: 'ab'.repeat(32),
    notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z'), extKeyUsage: ['clientAuth'],
    der: Buffer.from([0x30, 0x00]), ...over,
  };
}

const hostile: Array<{ name: string; subject: string; uris: string[]; dns: string[] }> = [
  { name: 'plain SPIFFE', subject: 'CN=orders,OU=payments,O=Acme', uris: ['spiffe://example.org/ns/prod/sa/orders'], dns: ['orders.example', 'www.orders.example'] },
  { name: 'double quote', subject: 'CN=a\\"b', uris: ['urn:a"b'], dns: ['"quoted".example'] },
  { name: 'semicolon and equals', subject: 'CN=a\\;b\\=c', uris: ['spiffe://x/a;Hash=ff'], dns: ['a;DNS=evil.example'] },
  { name: 'comma (element separator)', subject: 'CN=a\\,b', uris: ['urn:a,By=evil'], dns: ['a,Hash=00'] },
  { name: 'CR LF NUL', subject: 'CN=a\\0D\\0Ab\\00', uris: ['urn:a\r\nX-Client-Subject: CN=admin'], dns: ['a\u0000b', '\n'] },
  { name: 'backslashes', subject: 'CN=a\\\\b', uris: ['urn:a\\"b', 'urn:\\C3\\AB'], dns: ['a\\', '\\\\'] },
  { name: 'non-ASCII', subject: 'CN=Zo\\C3\\AB', uris: ['urn:Zoë/🔑'], dns: ['bücher.example'] },
  { name: 'spaces and tabs', subject: 'CN=\\ lead', uris: [' urn:edge '], dns: ['a\tb', ''] },
  { name: 'lone surrogate', subject: 'CN=x', uris: ['urn:\ud800x'], dns: [] },
];

t.test('hostile subjects and SANs parse back to exactly one element with the same fields', async (t) => {
  for (const row of hostile) {
    const id = fakeIdentity({ subject: row.subject, uris: row.uris, dns: row.dns });
    for (const withCert of [false, true]) {
      const xfcc = formatXfcc(id, withCert);
      t.match(xfcc, PRINTABLE, `${row.name}: printable ASCII`);
      const elements = parseXfcc(xfcc);
      t.equal(elements.length, 1, `${row.name}: one element`);
      const pairs = elements[0] ?? [];
      const keys = pairs.map(([k]) => k);
      t.same(keys, [
        'Hash', ...(withCert ? ['Cert'] : []), 'Subject', ...row.uris.map(() => 'URI'), ...row.dns.map(() => 'DNS'),
      ], `${row.name}: Envoy key order`);
      const values = (k: string) => pairs.filter(([key]) => key === k).map(([, v]) => v);
      t.same(values('Hash'), [id.fingerprint256]);
      t.same(values('Subject'), [row.subject], `${row.name}: subject`);
      // a lone surrogate cannot survive UTF-8; it arrives as U+FFFD like any UTF-8 encoder writes it
      t.same(values('URI'), row.uris.map((u) => Buffer.from(u, 'utf8').toString('utf8')), `${row.name}: URIs`);
      t.same(values('DNS'), row.dns, `${row.name}: DNS`);
    }
  }
});

t.test('quoting follows Envoy: Subject always, other values only when they need it', async (t) => {
  const id = fakeIdentity({
    uris: ['spiffe://example.org/ns/prod/sa/orders', 'urn:a,b'],
    dns: ['orders.example', 'a=b'],
  });
  t.equal(
    formatXfcc(id, false),
    `Hash=${'ab'.repeat(32)};Subject="CN=orders,O=Acme";URI=spiffe://example.org/ns/prod/sa/orders;URI="urn:a,b";DNS=orders.example;DNS="a=b"`,
  );
  t.equal(formatXfcc(fakeIdentity({ subject: '' }), false), `Hash=${'ab'.repeat(32)};Subject=""`);
});

t.test('a real openssl certificate: Hash, Cert (URL-encoded PEM) and SANs match openssl', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const uris = ['spiffe://example.org/ns/prod/sa/orders', 'urn:x;y,z="w"'];
  const dns = ['orders.example', 'x,y;z=w".example'];
  const leaf = makeLeaf(dir, 'hostile', ca, {
    subject: '/CN=a"b;c,d\\\\e/O=Zo\u00eb',
    san: [...uris.map((u) => `URI:${u}`), ...dns.map((d) => `DNS:${d}`)],
  });
  const id = computeIdentity(new X509Certificate(leaf.certPem));
  const xfcc = formatXfcc(id, true);
  t.match(xfcc, PRINTABLE);
  const [element, ...rest] = parseXfcc(xfcc);
  t.equal(rest.length, 0, 'one element');
  const get = (k: string) => (element ?? []).filter(([key]) => key === k).map(([, v]) => v);

  const fp = openssl(['x509', '-in', leaf.cert, '-noout', '-fingerprint', '-sha256']).trim();
  t.same(get('Hash'), [fp.replace(/^.*=/, '').replaceAll(':', '').toLowerCase()]);
  const pem = openssl(['x509', '-in', leaf.cert, '-outform', 'PEM']);
  const [cert] = get('Cert');
  t.equal(decodeURIComponent(cert ?? ''), pem, 'Cert decodes to the PEM openssl writes');
  t.match(xfcc, /;Cert="-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%-]+-----END%20CERTIFICATE-----%0A";/);
  t.same(get('URI'), uris);
  t.same(get('DNS'), dns);
  t.same(get('Subject'), [id.subject]);
  t.match(id.subject, /CN=a\\"b\\;c\\,d\\\\e/, 'the CN really holds the hostile characters');
});
