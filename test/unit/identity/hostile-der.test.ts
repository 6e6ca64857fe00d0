// Hostile bytes never crash the DER reader: it fails with DerError or yields printable output (no certificate needed;
// mutations of a real openssl certificate are in test/identity/hostile-der-certificates).
import t from 'tap';
import { tryComputeIdentity } from '../../../src/identity/identity.js';
import { makeRandom, probe } from '../../helpers/der-probe.js';

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
    if ((tryComputeIdentity(buf) === null) !== (r === 'der-error'))
      failures.push(`#${i}: tryComputeIdentity disagrees`);
  }
  t.same(failures, []);
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
