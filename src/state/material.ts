// Reads and validates the TLS material (server chain, key, client CAs, CRLs) as one unit, so a bad file is refused
// whole.
import { createPrivateKey, createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificateBundle } from './pem.js';
import { parseCrlPem, type ParsedCrl } from './crl.js';

export interface MaterialPaths {
  cert: string;
  key: string;
  clientCa: string[];
  crl: string[];
}

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  serverChain: X509Certificate[];
  serverKey: KeyObject;
  caPem: string[];
  caCerts: X509Certificate[];
  crls: ParsedCrl[];
  crlPem: string[];
  /** SHA-256 over every file's bytes, so a reload can tell whether anything changed. */
  digest: string;
}

export class MaterialError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function readText(file: string, flag: string, problems: string[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`${flag} ${file}: cannot read (${code}); check the path and that this user may read it`);
    return null;
  }
}

/** Reads every file, parses and cross-checks them; throws MaterialError listing every problem. */
export function loadTlsMaterial(paths: MaterialPaths): TlsMaterial {
  const problems: string[] = [];
  const hash = createHash('sha256');
  const certPem = readText(paths.cert, '--cert', problems);
  const keyPem = readText(paths.key, '--key', problems);
  const caTexts = paths.clientCa.map((f) => ({ file: f, text: readText(f, '--client-ca', problems) }));
  const crlTexts = paths.crl.map((f) => ({ file: f, text: readText(f, '--crl', problems) }));
  for (const t of [certPem, keyPem, ...caTexts.map((c) => c.text), ...crlTexts.map((c) => c.text)]) {
    hash.update(t ?? '').update('\0');
  }

  let serverChain: X509Certificate[] = [];
  if (certPem !== null) {
    try {
      serverChain = parseCertificateBundle(certPem);
    } catch (err) {
      problems.push(`--cert ${paths.cert}: ${(err as Error).message}; give a PEM certificate chain, leaf first`);
    }
  }
  let serverKey: KeyObject | undefined;
  if (keyPem !== null) {
    try {
      serverKey = createPrivateKey(keyPem);
    } catch {
      problems.push(`--key ${paths.key}: not a readable unencrypted PEM private key`);
    }
  }
  const leaf = serverChain[0];
  if (leaf && serverKey && !leaf.checkPrivateKey(serverKey)) {
    problems.push(
      `--key ${paths.key} does not match the certificate in --cert ${paths.cert}; give the key the certificate was issued for`,
    );
  }

  const caCerts: X509Certificate[] = [];
  const caPem: string[] = [];
  for (const { file, text } of caTexts) {
    if (text === null) continue;
    try {
      caCerts.push(...parseCertificateBundle(text));
      caPem.push(text);
    } catch (err) {
      problems.push(`--client-ca ${file}: ${(err as Error).message}; give a PEM bundle of CA certificates`);
    }
  }
  for (const ca of caCerts) {
    if (!ca.ca)
      problems.push(
        `--client-ca: certificate "${ca.subject.replace(/\n/g, ', ')}" is not a CA (basicConstraints CA:TRUE missing)`,
      );
  }

  const crls: ParsedCrl[] = [];
  const crlPem: string[] = [];
  for (const { file, text } of crlTexts) {
    if (text === null) continue;
    try {
      const parsed = parseCrlPem(text, caCerts);
      crls.push(...parsed);
      crlPem.push(text);
    } catch (err) {
      problems.push(`--crl ${file}: ${(err as Error).message}`);
    }
  }

  if (problems.length > 0 || !serverKey || certPem === null || keyPem === null) throw new MaterialError(problems);
  return { certPem, keyPem, serverChain, serverKey, caPem, caCerts, crls, crlPem, digest: hash.digest('hex') };
}
