// XFCC is one Envoy element that an independent parser reads back exactly, whatever bytes the certificate holds.
import t from 'tap';
import type { Identity } from '../../../src/identity/types.js';
import { formatXfcc } from '../../../src/http/xfcc.js';
import { parseXfcc, PRINTABLE } from '../../helpers/xfcc-parse.js';

function fakeIdentity(over: Partial<Identity>): Identity {
  return {
    subject: 'CN=orders,O=Acme',
    subjectRdns: [],
    issuer: 'CN=ca',
    issuerRdns: [],
    commonNames: ['orders'],
    orgUnits: [],
    orgs: ['Acme'],
    cnEscaped: 'orders',
    dns: [],
    uris: [],
    ignoredUris: [],
    emails: [],
    ips: [],
    serial: '0A',
    fingerprint256: 'ab'.repeat(32),
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    extKeyUsage: ['clientAuth'],
    der: Buffer.from([0x30, 0x00]),
    ...over,
  };
}

const hostile: Array<{ name: string; subject: string; uris: string[]; dns: string[] }> = [
  {
    name: 'plain SPIFFE',
    subject: 'CN=orders,OU=payments,O=Acme',
    uris: ['spiffe://example.org/ns/prod/sa/orders'],
    dns: ['orders.example', 'www.orders.example'],
  },
  { name: 'double quote', subject: 'CN=a\\"b', uris: ['urn:a"b'], dns: ['"quoted".example'] },
  {
    name: 'semicolon and equals',
    subject: 'CN=a\\;b\\=c',
    uris: ['spiffe://x/a;Hash=ff'],
    dns: ['a;DNS=evil.example'],
  },
  { name: 'comma (element separator)', subject: 'CN=a\\,b', uris: ['urn:a,By=evil'], dns: ['a,Hash=00'] },
  {
    name: 'CR LF NUL',
    subject: 'CN=a\\0D\\0Ab\\00',
    uris: ['urn:a\r\nX-Client-Subject: CN=admin'],
    dns: ['a\u0000b', '\n'],
  },
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
      t.same(
        keys,
        ['Hash', ...(withCert ? ['Cert'] : []), 'Subject', ...row.uris.map(() => 'URI'), ...row.dns.map(() => 'DNS')],
        `${row.name}: Envoy key order`,
      );
      const values = (k: string) => pairs.filter(([key]) => key === k).map(([, v]) => v);
      t.same(values('Hash'), [id.fingerprint256]);
      t.same(values('Subject'), [row.subject], `${row.name}: subject`);
      // a lone surrogate cannot survive UTF-8; it arrives as U+FFFD like any UTF-8 encoder writes it
      t.same(
        values('URI'),
        row.uris.map((u) => Buffer.from(u, 'utf8').toString('utf8')),
        `${row.name}: URIs`,
      );
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
