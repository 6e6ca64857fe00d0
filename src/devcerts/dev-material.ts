// Provides the development material `mtls-sidecar dev` runs on: reuse a complete, valid set, else make one.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateDevMaterial } from './generate.js';
import { writeMaterialFiles, type OutputFile } from './write-files.js';

export const DEV_HOSTS = ['localhost', '127.0.0.1', '::1'];
export const DEV_CLIENT_NAME = 'dev-client';
export const DEV_CLIENT_URI = `spiffe://mtls-sidecar.dev/client/${DEV_CLIENT_NAME}`;

export interface DevMaterialPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  clientName: string;
  clientUri: string;
  /** `reused` when a complete, valid set was found; otherwise the set was (re)written. */
  status: 'reused' | 'created' | 'regenerated';
  /** One line for the operator saying what happened and why (no key material). */
  summary: string;
}

function describePaths(dir: string): Omit<DevMaterialPaths, 'status' | 'summary'> {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, `${DEV_CLIENT_NAME}.crt`),
    clientKey: join(dir, `${DEV_CLIENT_NAME}.key`),
    clientName: DEV_CLIENT_NAME,
    clientUri: DEV_CLIENT_URI,
  };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// Why the existing set cannot be reused, or undefined when it can: every file present, each key
// matching its certificate, both leaves issued by the CA, and all of them in date.
async function findReuseProblem(p: ReturnType<typeof describePaths>): Promise<string | undefined> {
  const files = [p.caCert, p.caKey, p.serverCert, p.serverKey, p.clientCert, p.clientKey];
  const texts = await Promise.all(files.map(readOptional));
  const missing = files.filter((_, i) => texts[i] === undefined);
  if (missing.length === files.length) return 'none present';
  if (missing.length > 0) return `incomplete set (missing ${missing.join(', ')})`;
  const [caPem, caKeyPem, serverPem, serverKeyPem, clientPem, clientKeyPem] = texts as string[];
  try {
    const ca = new X509Certificate(caPem as string);
    const pairs: Array<[string, X509Certificate, string]> = [
      ['server', new X509Certificate(serverPem as string), serverKeyPem as string],
      ['client', new X509Certificate(clientPem as string), clientKeyPem as string],
    ];
    if (!ca.checkPrivateKey(createPrivateKey(caKeyPem as string))) return 'ca.key does not match ca.crt';
    const now = Date.now();
    for (const [role, cert, keyPem] of [['ca', ca, caKeyPem as string] as const, ...pairs]) {
      if (Date.parse(cert.validTo) <= now) return `${role} certificate expired on ${cert.validTo}`;
      if (Date.parse(cert.validFrom) > now) return `${role} certificate is not valid until ${cert.validFrom}`;
      if (role === 'ca') continue;
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return `${role} key does not match its certificate`;
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return `${role} certificate was not issued by ca.crt`;
    }
  } catch {
    return 'a file could not be parsed';
  }
  return undefined;
}

/**
 * Ensures `dir` (made absolute) holds a CA, a server certificate for localhost/127.0.0.1/::1 and a
 * `dev-client` certificate with a SPIFFE URI. A complete, valid set is reused byte for byte; an
 * incomplete or unusable one is replaced whole, so the pieces always belong together.
 */
export async function ensureDevMaterial(dir: string): Promise<DevMaterialPaths> {
  const paths = describePaths(resolve(dir));
  const problem = await findReuseProblem(paths);
  if (problem === undefined) {
    return { ...paths, status: 'reused', summary: `using existing development certificates in ${paths.dir}` };
  }
  const material = generateDevMaterial({
    hosts: DEV_HOSTS,
    clients: [{ name: DEV_CLIENT_NAME, uris: [DEV_CLIENT_URI] }],
  });
  const client = material.clients[0];
  if (client === undefined) throw new Error('ensureDevMaterial: no client certificate was generated');
  const files: OutputFile[] = [
    { name: 'ca.crt', contents: material.ca.certPem, secret: false },
    { name: 'ca.key', contents: material.ca.keyPem, secret: true },
    { name: 'server.crt', contents: material.server.certPem, secret: false },
    { name: 'server.key', contents: material.server.keyPem, secret: true },
    { name: `${DEV_CLIENT_NAME}.crt`, contents: client.certPem, secret: false },
    { name: `${DEV_CLIENT_NAME}.key`, contents: client.keyPem, secret: true },
  ];
  const fresh = problem === 'none present';
  // Replacing is safe: this directory belongs to `dev`, and only these six names are written.
  await writeMaterialFiles(paths.dir, files, { force: true });
  return {
    ...paths,
    status: fresh ? 'created' : 'regenerated',
    summary: fresh
      ? `created development certificates in ${paths.dir}`
      : `regenerated all development certificates in ${paths.dir}: ${problem}`,
  };
}
