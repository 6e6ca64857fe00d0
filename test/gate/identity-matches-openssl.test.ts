// Identity headers on the wire equal what the openssl CLI prints for certificates the openssl CLI made.
import t from 'tap';
import { makeLeaf, openssl } from '../helpers/pki.js';
import { httpsRequest, rawHeaderValues, startGateStack } from '../helpers/gate-harness.js';

function opensslField(certFile: string, args: string[]): string {
  return openssl(['x509', '-in', certFile, '-noout', ...args]).trim();
}

t.test('hard subjects and SANs, end to end', async (t) => {
  const { pki, upstream, proxy } = await startGateStack(t);
  const spiffe = 'URI:spiffe://example.org/ns/prod/sa/zoe';
  const certs = [
    makeLeaf(pki.dir, 'comma-plus', pki.ca, {
      subject: '/C=DE/O=Acme\\, Inc+Co/OU=payments/OU=risk/CN=Zoë',
      san: [spiffe, 'DNS:zoe.example.org'],
    }),
    makeLeaf(pki.dir, 'crlf', pki.ca, { subject: '/O=Acme/CN=evil\r\nX-Client-Subject: admin', san: [spiffe] }),
    makeLeaf(pki.dir, 'quotes', pki.ca, { subject: '/O=Acme/CN=a"b;c,d', san: [spiffe, 'DNS:q.example.org'] }),
  ];
  for (const cert of certs) {
    const before = upstream.received.length;
    const res = await httpsRequest({ port: proxy.port, ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem });
    t.equal(res.status, 200, `${cert.name} admitted`);
    const got = upstream.received[before]!;
    const subject = opensslField(cert.cert, ['-subject', '-nameopt', 'RFC2253']).replace(/^subject=/, '');
    // openssl leaves '=' inside values unescaped where RFC 4514 allows `\=`; none of these subjects has one.
    t.same(rawHeaderValues(got, 'x-client-subject'), [subject], `${cert.name}: subject as openssl prints it`);
    t.match(rawHeaderValues(got, 'x-client-subject')[0], /^[\x20-\x7e]+$/, 'printable ASCII only');
    const serial = opensslField(cert.cert, ['-serial']).replace(/^serial=/, '');
    t.same(rawHeaderValues(got, 'x-client-serial'), [serial], `${cert.name}: serial`);
    const fp = opensslField(cert.cert, ['-fingerprint', '-sha256']).split('=')[1]!.replace(/:/g, '').toLowerCase();
    t.same(rawHeaderValues(got, 'x-client-fingerprint-sha256'), [fp], `${cert.name}: fingerprint`);
    const xfcc = rawHeaderValues(got, 'x-forwarded-client-cert');
    t.equal(xfcc.length, 1, 'one XFCC header');
    t.ok(xfcc[0]!.startsWith(`Hash=${fp};Subject="`), 'XFCC starts with hash and quoted subject');
    t.match(xfcc[0], /;URI=spiffe:\/\/example\.org\/ns\/prod\/sa\/zoe(;|$)/);
    t.notMatch(JSON.stringify(got.rawHeaders), /\\r|\\n|\\u0000/, 'no CR, LF or NUL in any header');
    t.same(rawHeaderValues(got, 'x-client-subject').length, 1, 'a CR LF in the CN cannot inject a second header');
  }
  const zoe = upstream.received[0]!;
  t.same(rawHeaderValues(zoe, 'x-client-cn'), ['Zo\\C3\\AB']);
  t.same(rawHeaderValues(zoe, 'x-client-dns'), ['zoe.example.org']);
});
