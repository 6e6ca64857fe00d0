// Hostile certificate bytes never crash the process: truncations and mutations of a real openssl certificate, and
// hostile names inside one, fail with DerError or come out printable (certificate-free cases:
// test/unit/identity/hostile-der).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity, computeIdentityFromDer, tryComputeIdentity } from '../../src/identity/identity.js';
import { makeRandom, PRINTABLE_ASCII, probe } from '../helpers/der-probe.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

const dir = makeTmpDir();
t.teardown(() => removeDir(dir));
const root = makeCa(dir, 'root');
const leaf = makeLeaf(dir, 'victim', root, {
  subject: '/O=Acme/OU=ops/CN=victim',
  san: ['URI:spiffe://example.org/ns/prod/sa/victim', 'DNS:victim.example', 'IP:10.0.0.1', 'email:v@example.org'],
});
const good = new X509Certificate(leaf.certPem).raw;

t.test('every truncation of a real certificate is refused', async (t) => {
  const results = new Set<string>();
  for (let n = 0; n < good.length; n++) results.add(probe(good.subarray(0, n)));
  t.same([...results], ['der-error']);
  t.equal(probe(Buffer.concat([good, Buffer.from([0])])), 'der-error', 'trailing bytes are refused too');
});

t.test('byte mutations of a real certificate never escape as other exceptions or unprintable output', async (t) => {
  const random = makeRandom(42);
  const failures: string[] = [];
  let parsedByNode = 0;
  for (let i = 0; i < 4000; i++) {
    const buf = Buffer.from(good);
    const flips = 1 + Math.floor(random() * 3);
    for (let f = 0; f < flips; f++) buf[Math.floor(random() * buf.length)] = Math.floor(random() * 256);
    const r = probe(buf);
    if (r !== 'ok' && r !== 'der-error') failures.push(`#${i}: ${r}`);
    let cert: X509Certificate | null = null;
    try {
      cert = new X509Certificate(buf);
    } catch {
      // Node refused it; nothing more to check.
    }
    if (cert) {
      parsedByNode++;
      tryComputeIdentity(cert);
    }
  }
  t.same(failures, []);
  t.ok(parsedByNode > 0, `Node accepted ${parsedByNode} mutants, all handled`);
});

t.test('NUL, CR LF, quotes, non-ASCII and invalid UTF-8 inside a CN come out printable and escaped', async (t) => {
  const d = makeTmpDir();
  t.teardown(() => removeDir(d));
  const ca = makeCa(d, 'root');
  const placeholder = makeLeaf(d, 'p', ca, { subject: '/CN=QQQQQQQQ' });
  // Patch the CN bytes in the DER (same length, so all lengths stay valid); Node parses it, the signature is moot here.
  const der = Buffer.from(new X509Certificate(placeholder.certPem).raw);
  const at = der.lastIndexOf(Buffer.from('QQQQQQQQ'));
  t.ok(at > 0);
  const patch = (bytes: number[]): Buffer => {
    const copy = Buffer.from(der);
    Buffer.from(bytes).copy(copy, at);
    return copy;
  };
  const id = computeIdentity(new X509Certificate(patch([0x00, 0xc3, 0xa9, 0x0d, 0x0a, 0x22, 0x2c, 0x3b])));
  t.equal(id.cnEscaped, '\\00\\C3\\A9\\0D\\0A\\"\\,\\;');
  t.equal(id.subject, `CN=${id.cnEscaped}`);
  t.same(id.commonNames, ['\u0000é\r\n",;']);
  // OpenSSL refuses invalid UTF-8 before we see it; the reader alone keeps the bytes as #hex DER, never U+FFFD.
  const invalid = patch([0xff, 0xfe, 0x7f, 0x41, 0x41, 0x41, 0x41, 0x20]);
  t.throws(() => new X509Certificate(invalid));
  const raw = computeIdentityFromDer(invalid);
  t.equal(raw.cnEscaped, '', 'no CN string to forward');
  t.equal(raw.subject, 'CN=#0C08FFFE7F4141414120', 'the value byte for byte');
  t.match(raw.subject, PRINTABLE_ASCII);
});

t.test('hundreds of SANs are all read', async (t) => {
  const d = makeTmpDir();
  t.teardown(() => removeDir(d));
  const ca = makeCa(d, 'root');
  const dns = Array.from({ length: 400 }, (_, i) => `host-${i}.example`);
  const uris = Array.from({ length: 150 }, (_, i) => `spiffe://example.org/ns/n${i}/sa/s`);
  const many = makeLeaf(d, 'many', ca, { san: [...dns.map((x) => `DNS:${x}`), ...uris.map((x) => `URI:${x}`)] });
  const started = Date.now();
  const id = computeIdentity(new X509Certificate(many.certPem));
  t.ok(Date.now() - started < 2000, 'parsed without a pathological slowdown');
  t.same(id.dns, dns);
  t.same(id.uris, uris);
  t.match(id.subject, PRINTABLE_ASCII);
});
