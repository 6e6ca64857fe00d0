// A non-ASCII client name round-trips as a UTF8String CN (never PrintableString), per the openssl CLI.
import t from 'tap';
import { join } from 'node:path';
import { makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { runCertsInit } from './run-certs-init.js';

const dir = makeTmpDir('devcerts-utf8-');
t.teardown(() => removeDir(dir));
const name = 'Zoë Ünïcødé 東京';

await runCertsInit(dir, { clients: [name] });
const cert = join(dir, `${name}.crt`);

t.test('openssl -nameopt utf8 shows the name as written', async (t) => {
  const subject = openssl(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus,sname']);
  t.match(subject, `CN=${name}`);
});

t.test('every name attribute is a UTF8STRING; the CN bytes are the UTF-8 of the name', async (t) => {
  const parsed = openssl(['asn1parse', '-in', cert]);
  t.notMatch(parsed, /PRINTABLESTRING|T61STRING|BMPSTRING/);
  t.match(parsed, /UTF8STRING\s+:mtls-sidecar development CA/);
  const cnLine = parsed.split('\n').find((l) => l.includes('prim: UTF8STRING') && l.includes('Zo'));
  t.ok(cnLine, 'CN is encoded as UTF8STRING');
  const len = Number(/\sl=\s*(\d+)/.exec(cnLine ?? '')?.[1]);
  t.equal(len, Buffer.byteLength(name, 'utf8'), 'DER length is the UTF-8 byte length');
});

t.test('RFC 2253 output escapes the non-ASCII bytes as the proxy headers will', async (t) => {
  const subject = openssl(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253']);
  t.match(subject, /CN=Zo\\C3\\AB /);
});

t.test('the certificate still verifies', async (t) => {
  t.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', cert]), /: OK/);
});
