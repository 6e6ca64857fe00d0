// The caller's identity reaches the gRPC upstream as metadata, and metadata a caller forges under those names never
// does.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { openssl } from '../helpers/pki.js';
import { callUnary, startGrpcStack } from './lib/grpc-harness.js';

t.test('identity as metadata, forged metadata stripped', async (t) => {
  const { pki, upstream, proxy, shop } = await startGrpcStack(t);
  const md = new grpc.Metadata();
  md.set('x-client-subject', 'CN=admin,O=Evil');
  md.set('x_client_uri', 'spiffe://example.org/ns/ops/sa/console');
  md.set('x-client-cn', 'admin');
  md.set('x-forwarded-client-cert', 'Hash=00;Subject="CN=admin"');
  md.set('x-forwarded-for', '10.9.9.9');
  md.set('client-cert', ':AAAA:');
  md.set('x-request-id', 'grpc-id-1');
  md.set('x-tenant', 'kept');
  md.set('x-trace-bin', Buffer.from([0, 1, 2, 255]));
  const res = await callUnary(shop.orders, 'GetOrder', { id: 'who' }, { metadata: md });
  t.equal(res.status.code, grpc.status.OK);
  const seen = upstream.calls[0]!.metadata;

  // Expected values from openssl, not from our own identity code.
  const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', pki.client.cert])
    .trim()
    .replace(/^subject=/, '');
  const serial = openssl(['x509', '-noout', '-serial', '-in', pki.client.cert])
    .trim()
    .replace(/^serial=/, '');
  const fingerprint = openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', pki.client.cert])
    .trim()
    .replace(/^.*=/, '')
    .replaceAll(':', '')
    .toLowerCase();
  t.same(seen.get('x-client-subject'), [subject]);
  t.same(seen.get('x-client-cn'), ['orders']);
  t.same(seen.get('x-client-uri'), ['spiffe://example.org/ns/prod/sa/orders']);
  t.same(seen.get('x-client-dns'), ['orders.example.org']);
  t.same(seen.get('x-client-serial'), [serial.toUpperCase()]);
  t.same(seen.get('x-client-fingerprint-sha256'), [fingerprint]);
  t.match(
    String(seen.get('x-forwarded-client-cert')[0]),
    new RegExp(
      `^Hash=${fingerprint};Subject="${subject}";URI=spiffe://example.org/ns/prod/sa/orders;DNS=orders.example.org$`,
    ),
  );
  t.same(seen.get('x-forwarded-for'), ['127.0.0.1']);
  t.same(seen.get('x-forwarded-proto'), ['https']);
  t.same(seen.get('x-request-id'), ['grpc-id-1'], 'a well-formed request id is kept');
  t.same(seen.get('x_client_uri'), [], 'the underscore spelling is gone');
  t.same(seen.get('client-cert'), []);
  t.same(seen.get('x-tenant'), ['kept'], 'ordinary metadata passes');
  t.same(seen.get('x-trace-bin'), [Buffer.from([0, 1, 2, 255])], 'binary metadata passes intact');
  const names = Object.keys(seen.getMap());
  t.notOk(
    names.some((n) => n.startsWith(':')),
    'no pseudo-header becomes metadata',
  );
});
