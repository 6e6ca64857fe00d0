// Control characters and RFC 4514 specials in a CN come out escaped, leaving printable ASCII only.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity } from '../../src/identity/identity.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

t.test('CR, LF, DEL, = and ; in a CN are escaped and the result is printable ASCII', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const leaf = makeLeaf(dir, 'crlf', root, { subject: '/O=Acme/CN= evil\r\nX-Admin: yes;a=b"\x7f#<>\\\\ ' });
  const id = computeIdentity(new X509Certificate(leaf.certPem));

  t.same(id.commonNames, [' evil\r\nX-Admin: yes;a=b"\x7f#<>\\ ']);
  const expected = '\\20evil\\0D\\0AX-Admin: yes\\;a\\=b\\"\\7F#\\<\\>\\\\\\20';
  t.equal(id.cnEscaped, expected);
  t.equal(id.subject, `CN=${expected},O=Acme`);
  t.match(id.subject, /^[\x20-\x7e]*$/);
  // openssl's RFC2253 form differs only in leaving '=' unescaped and writing edge spaces `\ ` (RFC 4514 permits both;
  // we write `\20` because HTTP strips whitespace at the edges of a header value).
  t.equal(
    id.subject.replace('a\\=b', 'a=b').replace('CN=\\20', 'CN=\\ ').replace('\\20,O=', '\\ ,O='),
    openssl(['x509', '-in', leaf.cert, '-noout', '-subject', '-nameopt', 'RFC2253'])
      .replace(/^subject=/, '')
      .replace(/\n$/, ''),
  );
});
