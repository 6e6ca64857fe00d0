// certs-example/ is valid certs-init output, and EXAMPLE_SERVER_CERT_SHA256 is its server.crt's fingerprint.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_SERVER_CERT_SHA256 } from '../../src/posture/example-cert.js';
import { openssl } from '../helpers/pki.js';

const dir = fileURLToPath(new URL('../../certs-example/', import.meta.url));
const f = (n: string): string => `${dir}${n}`;

t.test('the pinned fingerprint is what openssl computes for certs-example/server.crt', async (t) => {
  const out = openssl(['x509', '-in', f('server.crt'), '-noout', '-fingerprint', '-sha256']);
  const fromOpenssl = out.trim().replace(/^.*=/, '').replaceAll(':', '').toLowerCase();
  t.match(EXAMPLE_SERVER_CERT_SHA256, /^[0-9a-f]{64}$/);
  t.equal(EXAMPLE_SERVER_CERT_SHA256, fromOpenssl);
});

t.test('the example chain verifies and carries the documented identities', async (t) => {
  t.match(openssl(['verify', '-CAfile', f('ca.crt'), '-purpose', 'sslserver', f('server.crt')]), /: OK/);
  t.match(openssl(['verify', '-CAfile', f('ca.crt'), '-purpose', 'sslclient', f('example-client.crt')]), /: OK/);
  const client = openssl(['x509', '-in', f('example-client.crt'), '-noout', '-ext', 'subjectAltName']);
  t.match(client, 'URI:spiffe://example.org/ns/dev/sa/example-client');
  for (const key of ['server', 'example-client', 'ca']) {
    const certMod = openssl(['x509', '-in', f(`${key}.crt`), '-noout', '-modulus']);
    const keyMod = openssl(['rsa', '-in', f(`${key}.key`), '-noout', '-modulus']);
    t.equal(keyMod, certMod, `${key}.key matches ${key}.crt`);
  }
});

t.test('the README marks the material as never for production and shows how it was made', async (t) => {
  const readme = readFileSync(f('README.md'), 'utf8');
  t.match(readme, /\*\*[^*]*must never serve production[^*]*\*\*/);
  t.match(readme, 'mtls-sidecar certs init certs-example');
  t.match(readme, EXAMPLE_SERVER_CERT_SHA256);
});
