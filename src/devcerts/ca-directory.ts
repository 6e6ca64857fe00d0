// Reads the CA of an existing `certs init` directory (ca.crt + ca.key) and checks that the two belong together.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export interface CaDirectory {
  dir: string;
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
}

async function readIn(dir: string, name: string, what: string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read by this user'
          : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError([
      `${JSON.stringify(path)}: ${why}; ${what} (make the directory with \`mtls-sidecar certs init ${dir}\`)`,
    ]);
  }
}

/** The CA certificate and key of `dir`; refuses (exit 78) when either is missing, unparsable, or they do not match. */
export async function loadCaDirectory(dirArg: string): Promise<CaDirectory> {
  if (dirArg.trim() === '')
    throw new ConfigError(['DIR is required: the directory `mtls-sidecar certs init DIR` wrote']);
  const dir = resolve(dirArg);
  const certPem = await readIn(dir, 'ca.crt', 'the CA certificate is needed');
  const keyPem = await readIn(dir, 'ca.key', 'the CA private key is needed to sign');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new ConfigError([`${JSON.stringify(join(dir, 'ca.crt'))}: is not a PEM certificate`]);
  }
  let matches: boolean;
  try {
    const publicFromKey = createPublicKey(createPrivateKey(keyPem)).export({ format: 'der', type: 'spki' });
    matches = publicFromKey.equals(cert.publicKey.export({ format: 'der', type: 'spki' }));
  } catch {
    throw new ConfigError([`${JSON.stringify(join(dir, 'ca.key'))}: is not a PEM private key`]);
  }
  if (!matches)
    throw new ConfigError([
      `${JSON.stringify(join(dir, 'ca.key'))}: does not belong to ca.crt (the public keys differ)`,
    ]);
  if (!cert.ca)
    throw new ConfigError([
      `${JSON.stringify(join(dir, 'ca.crt'))}: is not a CA certificate (basicConstraints CA:TRUE)`,
    ]);
  return { dir, certPem, keyPem, cert };
}

/** True when `cert` was signed by the directory's CA. */
export function issuedBy(cert: X509Certificate, ca: CaDirectory): boolean {
  return cert.checkIssued(ca.cert) && cert.verify(ca.cert.publicKey);
}
