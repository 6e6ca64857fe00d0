// Hostile certificate bytes never crash the process: the reader fails with DerError or yields printable output.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { computeIdentity, computeIdentityFromDer, DerError, tryComputeIdentity } from '../../src/identity/identity.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Small deterministic PRNG so a failure can be replayed. */
function makeRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Runs the reader; anything other than success or a DerError is a bug. Returns the error kind seen. */
function probe(der: Buffer): 'ok' | 'der-error' | string {
  try {
    const id = computeIdentityFromDer(der);
    if (!PRINTABLE_ASCII.test(id.subject) || !PRINTABLE_ASCII.test(id.cnEscaped) || !PRINTABLE_ASCII.test(id.issuer)) {
      return `non-printable output: ${JSON.stringify(id.subject)}`;
    }
    return 'ok';
  } catch (err) {
    if (err instanceof DerError) return 'der-error';
    return `unexpected ${(err as Error).name}: ${(err as Error).message}`;
  }
}

const dir = makeTmpDir();
t.teardown(() => removeDir(dir));
const root = makeCa(dir, 'root');
const leaf = makeLeaf(dir, 'victim', root, {
  subject: '/O=Acme/OU=ops/CN=victim',
  san: ['URI:spiffe://example.org/ns/prod/sa/victim', 'DNS:victim.example', 'IP:10.0.0.1', 'email:v@example.org'],
});
const good = new X509Certificate(leaf.certPem).raw;

t.test('random bytes are refused with DerError, never another exception', async (t) => {
  const random = makeRandom(0x5eed);
  const failures: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(random() * 700);
    const buf = Buffer.alloc(len);
    for (let j = 0; j < len; j++) buf[j] = Math.floor(random() * 256);
    // Half the time, start like a certificate so the reader gets past the first TLV.
    if (i % 2 === 0 && len > 4) buf.set([0x30, 0x82, (len - 4) >> 8, (len - 4) & 0xff]);
    const r = probe(buf);
    if (r !== 'ok' && r !== 'der-error') failures.push(`#${i}: ${r}`);
    if ((tryComputeIdentity(buf) === null) !== (r === 'der-error')) failures.push(`#${i}: tryComputeIdentity disagrees`);
  }
  t.same(failures, []);
});

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

t.test('absurd lengths, indefinite lengths and deep nesting are refused quickly', async (t) => {
  const cases = [
    Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    Buffer.from([0x30, 0x80, 0x00, 0x00]),
    Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]),
    Buffer.from([]),
    Buffer.concat(Array.from({ length: 20000 }, () => Buffer.from([0x30, 0x00]))),
  ];
  let nested = Buffer.from([0x05, 0x00]);
  for (let i = 0; i < 2000 && nested.length < 0xfff0; i++) {
    nested = Buffer.concat([Buffer.from([0x30, 0x82, nested.length >> 8, nested.length & 0xff]), nested]);
  }
  cases.push(nested);
  const started = Date.now();
  for (const c of cases) t.equal(probe(c), 'der-error');
  t.ok(Date.now() - started < 2000);
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
  t.ok(Date.now() - started < 2000, "parsed without a pathological slowdown");
  t.same(id.dns, dns);
  t.same(id.uris, uris);
  t.match(id.subject, PRINTABLE_ASCII);
});
