// Proves the openssl-backed test PKI makes chains openssl itself verifies and CRLs that list the revoked serials.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainPem, makeCa, makeCrl, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';

t.test('leaf verifies through an intermediate, and a CRL lists its serial', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const inter = makeCa(dir, 'inter', { issuer: root, subject: '/O=Acme/CN=Acme Intermediate' });
  const leaf = makeLeaf(dir, 'orders', inter, {
    san: ['URI:spiffe://example.org/ns/prod/sa/orders', 'DNS:orders.example'],
    serial: '00DEADBEEF',
  });
  const untrusted = join(dir, 'untrusted.pem');
  writeFileSync(untrusted, chainPem(inter));

  const verify = openssl(['verify', '-CAfile', root.cert, '-untrusted', untrusted, '-purpose', 'sslclient', leaf.cert]);
  t.match(verify, /: OK\s*$/);
  t.throws(
    () => openssl(['verify', '-CAfile', inter.cert, '-partial_chain', '-purpose', 'sslserver', leaf.cert]),
    'a clientAuth-only leaf is refused for server use',
  );

  const text = openssl(['x509', '-in', leaf.cert, '-noout', '-text']);
  t.match(text, /URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/orders/);
  t.match(text, /TLS Web Client Authentication/);
  t.equal(openssl(['x509', '-in', leaf.cert, '-noout', '-serial']).trim(), 'serial=DEADBEEF');

  const other = makeLeaf(dir, 'other', inter);
  const crl = makeCrl(dir, inter, [leaf]);
  const crlText = openssl(['crl', '-in', crl, '-noout', '-text']);
  t.match(crlText, /Serial Number: DEADBEEF/);
  const otherSerial = openssl(['x509', '-in', other.cert, '-noout', '-serial']).trim().replace('serial=', '');
  t.notMatch(crlText, new RegExp(`Serial Number: ${otherSerial}`));
  t.throws(
    () => openssl(['verify', '-crl_check', '-CAfile', root.cert, '-untrusted', untrusted, '-CRLfile', crl, leaf.cert]),
    /revoked/,
  );
});

t.test('expired leaf, stale CRL and RSA keys are produced as asked', async (t) => {
  const dir = makeTmpDir();
  t.teardown(() => removeDir(dir));
  const root = makeCa(dir, 'root');
  const expired = makeLeaf(dir, 'old', root, {
    notBefore: '20200101000000Z',
    notAfter: '20210101000000Z',
    keyType: 'rsa',
  });
  t.match(openssl(['x509', '-in', expired.cert, '-noout', '-enddate']), /Jan {2}1 00:00:00 2021 GMT/);
  t.match(openssl(['x509', '-in', expired.cert, '-noout', '-text']), /rsaEncryption/);
  t.throws(() => openssl(['verify', '-CAfile', root.cert, expired.cert]), /expired/);

  const stale = makeCrl(dir, root, [], { nextUpdateHours: -2 });
  const next = openssl(['crl', '-in', stale, '-noout', '-nextupdate']).trim().replace('nextUpdate=', '');
  t.ok(Date.parse(next) < Date.now(), 'nextUpdate already passed');
});
