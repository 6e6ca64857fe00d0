// Benchmark certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1 and one client
// certificate.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './procs.mjs';

async function openssl(args) {
  const r = await runCommand('openssl', args);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

function keyArgs(keyType) {
  return keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

const SERIALS = { server: '1001', client: '2002', intermediate: '3003', 'client-chained': '4004' };

async function issue(dir, name, subject, extensions, keyType, issuer = 'ca') {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await openssl([
    'req',
    ...keyArgs(keyType),
    '-nodes',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.csr`),
    '-subj',
    subject,
  ]);
  chmodSync(join(dir, `${name}.key`), 0o600);
  await openssl([
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, `${issuer}.crt`),
    '-CAkey',
    join(dir, `${issuer}.key`),
    '-set_serial',
    `0x${SERIALS[name]}`,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    join(dir, `${name}.crt`),
  ]);
}

/**
 * Writes ca.crt/ca.key, server.crt/server.key, client.crt/client.key, server-combined.pem (HAProxy),
 * client.pem (cert + key, for `ab -E`), and a leaf under an intermediate (client-chained.*) into dir. keyType: 'ec'
 * (P-256, default) or 'rsa' (2048).
 */
export async function makeCertificates(dir, keyType = 'ec') {
  await openssl([
    'req',
    '-x509',
    ...keyArgs(keyType),
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '2',
    '-sha256',
    '-subj',
    '/O=Bench/CN=bench CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(join(dir, 'ca.key'), 0o600);
  await issue(
    dir,
    'server',
    '/CN=localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
    keyType,
  );
  await issue(
    dir,
    'client',
    '/O=Acme/OU=payments/CN=orders',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://bench.example/ns/prod/sa/orders,DNS:orders.bench.example\n',
    keyType,
  );
  // A leaf under an intermediate (only the root is trusted): `openssl s_time -CAfile ca-and-intermediate.pem` sends
  // both.
  await issue(
    dir,
    'intermediate',
    '/O=Bench/CN=bench intermediate CA',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
    keyType,
  );
  await issue(
    dir,
    'client-chained',
    '/O=Acme/OU=payments/CN=orders-chained',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://bench.example/ns/prod/sa/orders\n',
    keyType,
    'intermediate',
  );
  const read = (f) => readFileSync(join(dir, f), 'utf8');
  writeFileSync(join(dir, 'ca-and-intermediate.pem'), read('ca.crt') + read('intermediate.crt'));
  writeFileSync(join(dir, 'server-combined.pem'), read('server.crt') + read('server.key'), { mode: 0o600 });
  writeFileSync(join(dir, 'client.pem'), read('client.crt') + read('client.key'), { mode: 0o600 });
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    serverCombined: join(dir, 'server-combined.pem'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    clientPem: join(dir, 'client.pem'),
    chainedClientCert: join(dir, 'client-chained.crt'),
    chainedClientKey: join(dir, 'client-chained.key'),
    caAndIntermediate: join(dir, 'ca-and-intermediate.pem'),
  };
}
