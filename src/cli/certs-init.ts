// `mtls-sidecar certs init DIR`: create a development CA, server and client certificates.
import { isIP } from 'node:net';
import { relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { generateDevMaterial, normalizeHost, type ClientSpec, type DevMaterial } from '../devcerts/generate.js';
import { writeMaterialFiles, type OutputFile } from '../devcerts/write-files.js';

export interface CertsInitOptions {
  hosts: string[];
  clients: string[];
  /** `NAME=URI` (for client NAME) or a bare `URI` (only when exactly one client is made). */
  uris: string[];
  force: boolean;
}

export const DEFAULT_HOSTS = ['localhost', '127.0.0.1'];
export const DEFAULT_CLIENT = 'client';
const RESERVED_NAMES = new Set(['ca', 'server']);
export const DNS_NAME =
  /^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

// Flags may arrive repeated or comma-joined (env style); treat both the same.
function splitList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function validateHosts(hosts: string[], problems: string[]): string[] {
  const list = splitList(hosts);
  for (const host of list) {
    const h = normalizeHost(host);
    if (isIP(h) === 0 && !DNS_NAME.test(h)) {
      problems.push(`--hosts: "${host}" is neither an IP address nor a DNS name (write IDNs in punycode, e.g. xn--…)`);
    }
  }
  return list.length > 0 ? list : DEFAULT_HOSTS;
}

// Client names become file names and a CN: allow any Unicode, but nothing that escapes the
// directory, hides the file, or collides with ca/server.
export function validateClientNames(clients: string[], problems: string[]): string[] {
  const names = clients.map((c) => c.trim()).filter((c) => c !== '');
  const seen = new Set<string>();
  for (const name of names) {
    if (/[/\\\0:=]/.test(name) || /[\x00-\x1f\x7f]/.test(name) || name.startsWith('.')) {
      problems.push(
        `--client: "${name}" cannot be used as a file name; avoid / \\ : = control characters and a leading dot`,
      );
    } else if (RESERVED_NAMES.has(name.toLowerCase())) {
      problems.push(`--client: "${name}" would overwrite ${name}.crt of the CA or server; choose another name`);
    } else if (seen.has(name)) {
      problems.push(`--client: "${name}" is given twice; client names must be unique`);
    } else if (Buffer.byteLength(name, 'utf8') > 64) {
      problems.push(`--client: "${name}" is longer than the 64 bytes a certificate CN allows`);
    }
    seen.add(name);
  }
  return names.length > 0 ? names : [DEFAULT_CLIENT];
}

/**
 * `NAME=URI` when the text before the first `=` has no `:` (client names may not contain `:` or `=`,
 * and every absolute URI has a `:` in its scheme), else the whole value is a bare URI — which is only
 * accepted when exactly one client is made, so no two clients silently share an identity.
 */
export function assignUris(names: string[], uris: string[], problems: string[]): ClientSpec[] {
  const byName = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const raw of uris.map((u) => u.trim()).filter((u) => u !== '')) {
    const eq = raw.indexOf('=');
    const targeted = eq > 0 && !raw.slice(0, eq).includes(':');
    const name = targeted ? raw.slice(0, eq) : undefined;
    const uri = targeted ? raw.slice(eq + 1) : raw;
    if (!URI_SCHEME.test(uri) || !PRINTABLE_ASCII.test(uri)) {
      problems.push(
        `--uri: "${raw}" is not an absolute ASCII URI such as spiffe://example.org/ns/dev/sa/app (percent-encode other characters)`,
      );
      continue;
    }
    if (name === undefined) {
      const only = names.length === 1 ? names[0] : undefined;
      if (only === undefined) {
        problems.push(`--uri: "${raw}" does not say which of the ${names.length} clients it is for; write NAME=${uri}`);
      } else {
        byName.get(only)?.push(uri);
      }
    } else {
      const list = byName.get(name);
      if (list === undefined) problems.push(`--uri: "${raw}" names client "${name}", but no --client ${name} is given`);
      else list.push(uri);
    }
  }
  return names.map((name) => ({ name, uris: byName.get(name) ?? [] }));
}

/** Checks every option, reporting all problems at once (exit 78), and returns the generation spec. */
export function resolveCertsInitSpec(opts: CertsInitOptions): { hosts: string[]; clients: ClientSpec[] } {
  const problems: string[] = [];
  const hosts = validateHosts(opts.hosts, problems);
  const names = validateClientNames(opts.clients, problems);
  const clients = assignUris(names, opts.uris, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { hosts, clients };
}

/** The files `certs init` writes, in order: CA, server, then one pair per client. */
export function listMaterialFiles(material: DevMaterial): OutputFile[] {
  const files: OutputFile[] = [
    { name: 'ca.crt', contents: material.ca.certPem, secret: false },
    { name: 'ca.key', contents: material.ca.keyPem, secret: true },
    { name: 'server.crt', contents: material.server.certPem, secret: false },
    { name: 'server.key', contents: material.server.keyPem, secret: true },
  ];
  for (const c of material.clients) {
    files.push({ name: `${c.name}.crt`, contents: c.certPem, secret: false });
    files.push({ name: `${c.name}.key`, contents: c.keyPem, secret: true });
  }
  return files;
}

function formatSummary(dir: string, hosts: string[], clients: ClientSpec[], paths: string[]): string {
  const shown = (p: string): string => {
    const rel = relative(process.cwd(), p);
    return rel.startsWith('..') || rel === '' ? p : rel;
  };
  const lines = [`wrote development certificates to ${dir}:`];
  for (const p of paths) lines.push(`  ${shown(p)}${p.endsWith('.key') ? '  (private key, mode 0600)' : ''}`);
  lines.push(`server certificate for: ${hosts.join(', ')}`);
  for (const c of clients) {
    lines.push(`client "${c.name}"${c.uris.length > 0 ? ` with URI ${c.uris.join(', ')}` : ''}`);
  }
  lines.push('These are development certificates: never use them in production.');
  return `${lines.join('\n')}\n`;
}

export async function certsInitCommand(dir: string, opts: CertsInitOptions): Promise<void> {
  if (dir.trim() === '') throw new ConfigError(['certs init: DIR is required, e.g. `mtls-sidecar certs init ./certs`']);
  const spec = resolveCertsInitSpec(opts);
  const material = generateDevMaterial(spec);
  const absDir = resolve(dir);
  const paths = await writeMaterialFiles(absDir, listMaterialFiles(material), { force: opts.force });
  process.stdout.write(formatSummary(absDir, spec.hosts, spec.clients, paths));
}
