// `inspect --json` shows the subject, issuer, SANs, serial, fingerprint, validity and EKU openssl reads from the same
// certificate, and the headers built from them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, openssl, removeDir } from '../helpers/pki.js';
import { readOpensslCert, readOpensslEku, readOpensslSans } from '../containment/helpers/openssl-fields.js';

interface InspectJson {
  file: string;
  identity: {
    subject: string;
    issuer: string;
    cn: string[];
    ou: string[];
    o: string[];
    dns: string[];
    uri: string[];
    email: string[];
    ip: string[];
    serial: string;
    fingerprintSha256: string;
    notBefore: string;
    notAfter: string;
    extKeyUsage: string[];
  };
  validity: { status: string; daysLeft: number };
  headers: Record<string, string>;
  authorization?: unknown;
}

t.test('inspect --json against openssl', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const dir = makeTmpDir('mtls-inspect-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca', { subject: '/O=Acme, Inc./CN=Issuing CA' });
  const leaf = makeLeaf(dir, 'orders', ca, {
    subject: '/C=DE/O=Acme, Inc./OU=payments/OU=eu+L=Berlin/CN=orders',
    san: [
      'DNS:orders.example.org',
      'DNS:orders',
      'URI:spiffe://example.org/ns/prod/sa/orders',
      'email:orders@example.org',
      'IP:127.0.0.1',
      'IP:::1',
    ],
    eku: 'clientAuth,serverAuth',
    serial: '00F1E2D3C4B5A6',
  });

  const result = runCli(['inspect', '--json', leaf.cert]);
  t.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as InspectJson;
  const id = report.identity;
  const ossl = readOpensslCert(leaf.cert);
  const sans = readOpensslSans(leaf.cert);

  t.equal(report.file, leaf.cert);
  t.equal(id.subject, ossl.subject, 'RFC 4514 subject as openssl -nameopt RFC2253');
  t.equal(id.issuer, ossl.issuer);
  t.equal(id.serial, ossl.serial);
  t.equal(id.fingerprintSha256, ossl.fingerprint);
  t.equal(Date.parse(id.notBefore), ossl.notBeforeMs);
  t.equal(Date.parse(id.notAfter), ossl.notAfterMs);
  t.same(id.dns, sans.dns);
  t.same(id.uri, sans.uri);
  t.same(id.email, sans.email);
  t.same(id.ip, sans.ip, 'IP SANs written as openssl writes them');
  t.same(id.extKeyUsage, readOpensslEku(leaf.cert));
  t.same(id.cn, ['orders']);
  t.same(id.o, ['Acme, Inc.']);
  t.same([...id.ou].sort(), ['eu', 'payments']);
  t.equal(report.validity.status, 'valid');
  t.equal(report.authorization, undefined, 'no rules without a configuration');

  const h = report.headers;
  t.equal(h['x-client-subject'], ossl.subject);
  t.equal(h['x-client-cn'], 'orders');
  t.equal(h['x-client-serial'], ossl.serial);
  t.equal(h['x-client-fingerprint-sha256'], ossl.fingerprint);
  t.equal(h['x-client-uri'], sans.uri.join(','));
  t.equal(h['x-client-dns'], sans.dns.join(','));
  t.equal(Date.parse(h['x-client-not-after'] ?? ''), ossl.notAfterMs);
  t.equal(
    h['x-forwarded-client-cert'],
    `Hash=${ossl.fingerprint};Subject="${ossl.subject.replace(/[\\"]/g, (c) => `\\${c}`)}";URI=${sans.uri[0]};DNS=${sans.dns[0]};DNS=${sans.dns[1]}`,
    'XFCC in the Envoy format',
  );
  t.notOk('client-cert' in h, 'client-cert only with --forward-cert');

  // The same certificate as DER gives the same identity.
  const der = join(dir, 'orders.der');
  openssl(['x509', '-in', leaf.cert, '-outform', 'DER', '-out', der]);
  const fromDer = runCli(['inspect', '--json', der]);
  t.equal(fromDer.status, 0, fromDer.stderr);
  t.same((JSON.parse(fromDer.stdout) as InspectJson).identity, id, 'DER input reads the same');
});
