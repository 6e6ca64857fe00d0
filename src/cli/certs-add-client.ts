// `mtls-sidecar certs add-client DIR NAME`: one more client certificate from the CA of an existing `certs init`
// directory.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadCaDirectory } from '../devcerts/ca-directory.js';
import { generateClientCert, issuerFromPem } from '../devcerts/generate.js';
import { writeMaterialFiles } from '../devcerts/write-files.js';
import { assignUris, DNS_NAME, validateClientNames } from './certs-init.js';

export interface AddClientOptions {
  uris: string[];
  dns: string[];
  force: boolean;
}

function resolveSpec(name: string, opts: AddClientOptions): { name: string; uris: string[]; dns: string[] } {
  const problems: string[] = [];
  const [valid] = validateClientNames([name], problems);
  const [client] = assignUris([valid ?? name], opts.uris, problems);
  const dns = opts.dns
    .flatMap((d) => d.split(','))
    .map((d) => d.trim())
    .filter((d) => d !== '');
  for (const d of dns)
    if (!DNS_NAME.test(d)) problems.push(`--dns: "${d}" is not a DNS name (write IDNs in punycode, e.g. xn--…)`);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => p.replace(/^--client: /, 'NAME: ')));
  return { name: valid ?? name, uris: client?.uris ?? [], dns };
}

/** The serial of an existing certificate file, or undefined when there is none to read. */
async function serialOf(path: string): Promise<string | undefined> {
  try {
    return new X509Certificate(await readFile(path)).serialNumber;
  } catch {
    return undefined;
  }
}

export async function certsAddClientCommand(dir: string, name: string, opts: AddClientOptions): Promise<void> {
  const spec = resolveSpec(name, opts);
  const ca = await loadCaDirectory(dir);
  let issuer: ReturnType<typeof issuerFromPem>;
  try {
    issuer = issuerFromPem(ca.certPem, ca.keyPem);
  } catch {
    throw new ConfigError([
      `${JSON.stringify(ca.dir)}: add-client needs the RSA CA that \`certs init\` makes (ca.crt and ca.key)`,
    ]);
  }
  const replacedSerial = opts.force ? await serialOf(join(ca.dir, `${spec.name}.crt`)) : undefined;
  const made = generateClientCert(issuer, spec);
  const files = [
    { name: `${spec.name}.crt`, contents: made.certPem, secret: false },
    { name: `${spec.name}.key`, contents: made.keyPem, secret: true },
  ];
  // Only the client's own two files are written: the CA is read, never replaced, even with --force.
  const paths = await writeMaterialFiles(ca.dir, files, { force: opts.force });
  const sans = [...spec.uris.map((u) => `URI ${u}`), ...spec.dns.map((d) => `DNS ${d}`)];
  const lines = [
    `client "${spec.name}"${sans.length > 0 ? ` with ${sans.join(', ')}` : ''}, issued by ${ca.cert.subject.replace(/\n/g, ', ')}:`,
    ...paths.map((p) => `  ${p}${p.endsWith('.key') ? '  (private key, mode 0600)' : ''}`),
  ];
  if (replacedSerial !== undefined) {
    lines.push(`The certificate this replaced (serial ${replacedSerial}) stays valid until it expires: revoke it with`);
    lines.push(`  mtls-sidecar certs revoke ${JSON.stringify(dir)} --serial ${replacedSerial}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
