// Whatever a certificate holds, every identity header value is printable ASCII and decodes back to the original.
import t from 'tap';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Identity } from '../../../src/identity/types.js';
import { buildIdentityHeaders, composeUpstreamHeaders } from '../../../src/http/identity-headers.js';

const PRINTABLE = /^[\x20-\x7e]*$/;

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

/** Reads a SAN list header back: split on `,`, then every `\XX` is one UTF-8 byte. Independent of the encoder. */
function decodeList(value: string): string[] {
  return value.split(',').map((item) => {
    const bytes: number[] = [];
    for (let i = 0; i < item.length; i++) {
      if (item[i] === '\\') {
        const hex = item.slice(i + 1, i + 3);
        if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`bad escape in ${item}`);
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(item.charCodeAt(i));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  });
}

const rows: Array<{ name: string; cn: string; uris: string[]; dns: string[] }> = [
  { name: 'double quote', cn: 'a\\"b', uris: ['urn:"x"'], dns: ['"a".example'] },
  { name: 'semicolon', cn: 'a\\;b', uris: ['spiffe://x/a;b'], dns: ['a;b'] },
  { name: 'comma', cn: 'a\\,b', uris: ['urn:a,b', 'urn:c'], dns: ['a,b.example', ','] },
  { name: 'CR LF NUL', cn: 'a\\0D\\0A\\00', uris: ['urn:a\r\nX-Client-Subject: CN=admin'], dns: ['\u0000', 'a\nb'] },
  { name: 'backslash', cn: 'a\\\\b', uris: ['urn:a\\2Cb'], dns: ['a\\', '\\'] },
  { name: 'non-ASCII', cn: 'Zo\\C3\\AB', uris: ['urn:Zoë', 'urn:🔑'], dns: ['bücher.example'] },
  { name: 'spaces', cn: '\\ x\\ ', uris: [' urn:a '], dns: ['a b', ''] },
  { name: 'lone surrogate', cn: 'x', uris: ['urn:\udc00'], dns: ['\ud83d'] },
];

t.test('hostile CN and SAN values stay printable and decode back exactly', async (t) => {
  for (const row of rows) {
    for (const forwardCert of [false, true]) {
      const id = fakeIdentity({ subject: `CN=${row.cn},O=Acme`, cnEscaped: row.cn, uris: row.uris, dns: row.dns });
      const pairs = buildIdentityHeaders(id, { forwardCert });
      const names = pairs.map(([n]) => n);
      t.equal(new Set(names).size, names.length, `${row.name}: no duplicate names`);
      for (const [name, value] of pairs) {
        t.match(value, PRINTABLE, `${row.name}: ${name} printable`);
        t.doesNotThrow(() => {
          validateHeaderName(name);
          validateHeaderValue(name, value);
        }, `${row.name}: Node accepts ${name}`);
      }
      const get = (n: string) => pairs.find(([name]) => name === n)?.[1];
      t.equal(get('x-client-subject'), `CN=${row.cn},O=Acme`);
      t.equal(get('x-client-cn'), row.cn);
      const wellFormed = (v: string) => Buffer.from(v, 'utf8').toString('utf8');
      t.same(decodeList(get('x-client-uri') ?? ''), row.uris.map(wellFormed), `${row.name}: URIs decode back`);
      t.same(decodeList(get('x-client-dns') ?? ''), row.dns.map(wellFormed), `${row.name}: DNS decode back`);
    }
  }
});

t.test('a subject that breaks its printable contract is still made safe', async (t) => {
  const id = fakeIdentity({ subject: 'CN=a\r\nX-Admin: 1', cnEscaped: 'é\u0000' });
  const pairs = Object.fromEntries(buildIdentityHeaders(id, { forwardCert: false }));
  t.equal(pairs['x-client-subject'], 'CN=a\\0D\\0AX-Admin: 1');
  t.equal(pairs['x-client-cn'], '\\C3\\A9\\00');
});

t.test('absent fields: no CN, URI or DNS header; Not-After in whole seconds', async (t) => {
  const pairs = Object.fromEntries(
    buildIdentityHeaders(fakeIdentity({ cnEscaped: '', subject: 'O=Acme' }), { forwardCert: false }),
  );
  t.same(Object.keys(pairs).sort(), [
    'x-client-fingerprint-sha256',
    'x-client-issuer',
    'x-client-not-after',
    'x-client-serial',
    'x-client-subject',
    'x-forwarded-client-cert',
  ]);
  t.equal(pairs['x-client-not-after'], '2027-01-01T00:00:00Z');
  const odd = Object.fromEntries(
    buildIdentityHeaders(fakeIdentity({ notAfter: new Date('2030-06-15T12:34:56.789Z') }), { forwardCert: false }),
  );
  t.equal(odd['x-client-not-after'], '2030-06-15T12:34:56.789Z', 'sub-second precision is not invented away');
  const bad = Object.fromEntries(
    buildIdentityHeaders(fakeIdentity({ notAfter: new Date(NaN) }), { forwardCert: false }),
  );
  t.equal(bad['x-client-not-after'], undefined, 'an invalid date is left out rather than thrown');
  t.ok(
    Object.isFrozen(buildIdentityHeaders(fakeIdentity({}), { forwardCert: false })),
    'per-connection result is frozen',
  );
});

t.test('connection facts with hostile bytes stay printable', async (t) => {
  const out = composeUpstreamHeaders({}, buildIdentityHeaders(fakeIdentity({}), { forwardCert: true }), {
    remoteAddress: '::ffff:127.0.0.1\r\n',
    host: 'a.example, evil.example\u0000ü',
    requestId: 'r\n1',
  });
  for (const [name, value] of Object.entries(out)) {
    for (const v of typeof value === 'string' ? [value] : value) {
      t.match(v, PRINTABLE, name);
      t.doesNotThrow(() => validateHeaderValue(name, v), name);
    }
  }
  t.equal(out['x-forwarded-host'], 'a.example\\2C\\20evil.example\\00\\C3\\BC', 'a host cannot pose as a list');
  t.equal(
    composeUpstreamHeaders({}, [], { remoteAddress: '', host: undefined, requestId: 'r' })['x-forwarded-host'],
    undefined,
  );
});
