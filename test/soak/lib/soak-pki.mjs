// Test PKI for the soak runner, made with the openssl CLI: a CA, two server certificates to alternate, clients (leaf,
// leaf + intermediate, hostile junk chain), and fresh CRLs.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function openssl(args) {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function key(path) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', path]);
  chmodSync(path, 0o600);
}

const REQ =
  '[ req ]\ndistinguished_name = dn\nstring_mask = utf8only\n[ dn ]\n[ v3_ca ]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n';

function leaf(
  dir,
  name,
  subject,
  extLines,
  issuer = 'ca',
  base = 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature',
) {
  key(join(dir, `${name}.key`));
  openssl([
    'req',
    '-new',
    '-config',
    join(dir, 'req.cnf'),
    '-key',
    join(dir, `${name}.key`),
    '-subj',
    subject,
    '-out',
    join(dir, `${name}.csr`),
  ]);
  writeFileSync(join(dir, `${name}.ext`), `[ ext ]\n${base}\nauthorityKeyIdentifier = keyid\n${extLines.join('\n')}\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, `${issuer}.crt`),
    '-CAkey',
    join(dir, `${issuer}.key`),
    '-days',
    '30',
    '-sha256',
    '-set_serial',
    `0x${openssl(['rand', '-hex', '12']).trim()}`,
    '-extfile',
    join(dir, `${name}.ext`),
    '-extensions',
    'ext',
    '-out',
    join(dir, `${name}.crt`),
  ]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** Writes through a temporary file and a rename, as a secret manager should. */
export function replaceFile(path, content) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

export function makeSoakPki() {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-soak-'));
  writeFileSync(join(dir, 'req.cnf'), REQ);
  key(join(dir, 'ca.key'));
  openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    join(dir, 'req.cnf'),
    '-extensions',
    'v3_ca',
    '-key',
    join(dir, 'ca.key'),
    '-subj',
    '/CN=Soak Root CA',
    '-days',
    '30',
    '-out',
    join(dir, 'ca.crt'),
  ]);
  const serverExt = ['extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost,IP:127.0.0.1'];
  const servers = [
    leaf(dir, 'server-a', '/CN=localhost', serverExt),
    leaf(dir, 'server-b', '/CN=localhost', serverExt),
  ];
  const client = leaf(dir, 'orders', '/O=Acme/CN=orders', [
    'extendedKeyUsage = clientAuth',
    'subjectAltName = URI:spiffe://example.org/ns/prod/sa/orders',
  ]);
  // A leaf under an intermediate (only the root is loaded), and a hostile client: an untrusted leaf + junk
  // certificates.
  const CA_BASE =
    'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash';
  const intermediate = leaf(dir, 'intermediate', '/CN=Soak Intermediate CA', [], 'ca', CA_BASE);
  const chained = leaf(
    dir,
    'chained',
    '/O=Acme/CN=chained',
    ['extendedKeyUsage = clientAuth', 'subjectAltName = URI:spiffe://example.org/ns/prod/sa/chained'],
    'intermediate',
  );
  key(join(dir, 'rogue-ca.key'));
  openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    join(dir, 'req.cnf'),
    '-extensions',
    'v3_ca',
    '-key',
    join(dir, 'rogue-ca.key'),
    '-subj',
    '/CN=Rogue CA',
    '-days',
    '30',
    '-out',
    join(dir, 'rogue-ca.crt'),
  ]);
  const rogue = leaf(
    dir,
    'rogue',
    '/CN=rogue',
    ['extendedKeyUsage = clientAuth', 'subjectAltName = URI:spiffe://example.org/ns/prod/sa/rogue'],
    'rogue-ca',
  );
  const junk = Array.from({ length: 40 }, (_, i) => leaf(dir, `junk-${i}`, `/CN=junk ${i}`, [], 'rogue-ca', CA_BASE));
  const live = {
    cert: join(dir, 'live-server.crt'),
    key: join(dir, 'live-server.key'),
    crl: join(dir, 'live.crl.pem'),
  };
  replaceFile(live.cert, readFileSync(servers[0].cert));
  replaceFile(live.key, readFileSync(servers[0].key));
  let crlNumber = 1000;
  /** A fresh, empty CRL (new lastUpdate and number): a CRL change the proxy must take without dropping anyone. */
  const issueCrl = () => {
    const work = mkdtempSync(join(dir, '.crl-'));
    try {
      writeFileSync(
        join(work, 'ca.cnf'),
        `[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = ${work}/index.txt\ncrlnumber = ${work}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n`,
      );
      writeFileSync(join(work, 'index.txt'), '');
      writeFileSync(join(work, 'crlnumber'), `${(crlNumber += 1)}\n`);
      openssl([
        'ca',
        '-batch',
        '-gencrl',
        '-config',
        join(work, 'ca.cnf'),
        '-cert',
        join(dir, 'ca.crt'),
        '-keyfile',
        join(dir, 'ca.key'),
        '-out',
        join(work, 'crl.pem'),
      ]);
      replaceFile(live.crl, readFileSync(join(work, 'crl.pem')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
  issueCrl();
  const serialOf = (file) =>
    openssl(['x509', '-noout', '-serial', '-in', file])
      .trim()
      .replace(/^serial=/, '')
      .toUpperCase();
  return {
    dir,
    live,
    servers,
    client,
    issueCrl,
    ca: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    clientPem: { cert: readFileSync(client.cert, 'utf8'), key: readFileSync(client.key, 'utf8') },
    chainedPem: {
      cert: readFileSync(chained.cert, 'utf8') + readFileSync(intermediate.cert, 'utf8'),
      key: readFileSync(chained.key, 'utf8'),
    },
    hostilePem: {
      cert: [rogue, ...junk].map((c) => readFileSync(c.cert, 'utf8')).join(''),
      key: readFileSync(rogue.key, 'utf8'),
    },
    serverSerials: servers.map((s) => serialOf(s.cert)),
    /** Installs server certificate `i` (0 or 1) by atomic rename, certificate first, then key. */
    installServer(i) {
      replaceFile(live.cert, readFileSync(servers[i].cert));
      replaceFile(live.key, readFileSync(servers[i].key));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
