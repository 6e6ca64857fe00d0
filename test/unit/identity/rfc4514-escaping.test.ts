// RFC 4514 value escaping and DN formatting, table-driven against hand-written expectations from the RFC.
import t from 'tap';
import { escapeNonPrintable, escapeRfc4514Value, formatRfc4514 } from '../../../src/identity/rfc4514.js';

t.test('escapeRfc4514Value', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['plain', 'plain', 'nothing to escape'],
    ['a,b+c"d\\e<f>g;h=i', 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i', 'RFC 4514 specials and ='],
    [' lead', '\\20lead', 'leading space as \\20 (HTTP strips edge whitespace)'],
    ['trail ', 'trail\\20', 'trailing space as \\20'],
    [' ', '\\20', 'a lone space'],
    ['  two  ', '\\20 two \\20', 'only the outermost spaces need escaping'],
    ['in side', 'in side', 'inner space kept'],
    ['#hash', '\\#hash', 'leading #'],
    ['a#b', 'a#b', 'inner # kept'],
    ['Zoë', 'Zo\\C3\\AB', 'non-ASCII as UTF-8 hex'],
    ['\0\r\n\t\x7f', '\\00\\0D\\0A\\09\\7F', 'controls and DEL'],
    ['日本', '\\E6\\97\\A5\\E6\\9C\\AC', 'CJK'],
    ['😀', '\\F0\\9F\\98\\80', 'astral plane'],
    ['\uD800', '\\EF\\BF\\BD', 'a lone surrogate becomes U+FFFD'],
    ['', '', 'empty'],
  ];
  for (const [input, expected, why] of cases) t.equal(escapeRfc4514Value(input), expected, why);
});

t.test('escapeNonPrintable leaves RFC 4514 specials alone', async (t) => {
  t.equal(escapeNonPrintable('spiffe://ex.org/a,b;c="d"\\'), 'spiffe://ex.org/a,b;c="d"\\');
  t.equal(escapeNonPrintable(' Zoë\r\n '), ' Zo\\C3\\AB\\0D\\0A ');
});

t.test('formatRfc4514 joins RDNs with "," and multi-valued RDNs with "+"', async (t) => {
  const rdns = [
    [
      { type: 'CN', oid: '2.5.4.3', value: 'orders' },
      { type: 'UID', oid: '0.9.2342.19200300.100.1.1', value: 'o1' },
    ],
    [{ type: 'OU', oid: '2.5.4.11', value: 'pay, ments' }],
    [{ type: 'emailAddress', oid: '1.2.840.113549.1.9.1', value: 'a@b' }],
    [{ type: 'DC', oid: '0.9.2342.19200300.100.1.25', value: 'example' }],
  ];
  // Types outside RFC 4514's table are written as dotted OIDs with #hex BER (here a UTF8String, tag 0C).
  t.equal(formatRfc4514(rdns), 'CN=orders+UID=o1,OU=pay\\, ments,1.2.840.113549.1.9.1=#0C03614062,DC=example');
  t.equal(formatRfc4514([]), '');
});
