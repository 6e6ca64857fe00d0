// Test-only CRL tools on top of the openssl CLI: RSA CAs and CRLs with a chosen digest or RSASSA-PSS padding.
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, removeDir, type CertFiles } from '../../helpers/pki.js';

/** A self-signed RSA root made by `openssl req -x509`. */
export function makeRsaCa(dir: string, name: string): CertFiles {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
  chmodSync(key, 0o600);
  const conf = join(dir, `${name}.cnf`);
  writeFileSync(
    conf,
    '[req]\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    conf,
    '-key',
    key,
    '-subj',
    `/CN=${name}`,
    '-days',
    '30',
    '-sha256',
    '-out',
    cert,
  ]);
  return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), name };
}

/** A CRL signed by `issuer` revoking the given serials (hex), with extra `openssl ca` options such as `-md sha512`. */
export function makeCustomCrl(
  dir: string,
  issuer: CertFiles,
  serials: string[],
  extra: string[] = [],
  crlExts = 'authorityKeyIdentifier = keyid:always',
): string {
  const work = mkdtempSync(join(dir, '.crl-'));
  try {
    const conf = join(work, 'ca.cnf');
    writeFileSync(
      conf,
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${work}/index.txt\ncrlnumber=${work}/crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n[crl_ext]\n${crlExts}\n`,
    );
    writeFileSync(
      join(work, 'index.txt'),
      serials.map((s) => `R\t491231235959Z\t240101000000Z\t${s}\tunknown\t/CN=revoked\n`).join(''),
    );
    writeFileSync(join(work, 'crlnumber'), '01\n');
    const out = join(dir, `${issuer.name}-${Math.floor(Math.random() * 1e9)}.crl.pem`);
    openssl([
      'ca',
      '-batch',
      '-gencrl',
      '-config',
      conf,
      '-cert',
      issuer.cert,
      '-keyfile',
      issuer.key,
      '-crlexts',
      'crl_ext',
      ...extra,
      '-out',
      out,
    ]);
    return out;
  } finally {
    removeDir(work);
  }
}

/** Revoked serials as `openssl crl -text` lists them (uppercase hex). */
export function opensslCrlSerials(crlFile: string): string[] {
  const text = openssl(['crl', '-noout', '-text', '-in', crlFile]);
  return [...text.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) => (m[1] as string).toUpperCase());
}

/** nextUpdate as `openssl crl -nextupdate` prints it, parsed to a Date. */
export function opensslNextUpdate(crlFile: string): Date {
  const line = openssl(['crl', '-noout', '-nextupdate', '-in', crlFile]).trim();
  return new Date(line.replace(/^nextUpdate=/, ''));
}

export function opensslLastUpdate(crlFile: string): Date {
  const line = openssl(['crl', '-noout', '-lastupdate', '-in', crlFile]).trim();
  return new Date(line.replace(/^lastUpdate=/, ''));
}
