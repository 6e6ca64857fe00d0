// `mtls-sidecar certs revoke DIR NAME…` and `certs crl DIR`: write or re-sign DIR/crl.pem with the directory's CA.
import { X509Certificate } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { issuedBy, loadCaDirectory, type CaDirectory } from '../devcerts/ca-directory.js';
import {
  buildCrl,
  certificateSerialHex,
  crlToPem,
  DEFAULT_CRL_DAYS,
  readCrlState,
  type CrlState,
  type RevokedEntry,
} from '../devcerts/crl-builder.js';
import { writeMaterialFiles } from '../devcerts/write-files.js';
import { splitPem } from '../state/pem.js';
import { parseCrlPem } from '../state/crl.js';

export const CRL_FILE = 'crl.pem';
const LOCK_FILE = '.crl.pem.lock';
const MAX_CRL_DAYS = 3650;

export interface CrlOptions {
  /** nextUpdate = now + days (a string from the command line). */
  days?: string;
}

export interface RevokeOptions extends CrlOptions {
  serials: string[];
}

/**
 * A serial as openssl prints it (upper-case hex, no leading zeros): equal serials compare equal whatever their
 * spelling.
 */
function canonical(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

/** `0a:1B` → the DER INTEGER content of that positive serial (a 00 byte in front when the top bit is set). */
function serialFromFlag(value: string, problems: string[]): string | undefined {
  const hex = value.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{1,40}$/.test(hex)) {
    problems.push(
      `--serial: "${value}" is not a hex serial of at most 20 bytes (as \`openssl x509 -noout -serial\` prints it)`,
    );
    return undefined;
  }
  let bytes = canonical(hex);
  if (bytes.length % 2 === 1) bytes = `0${bytes}`;
  return parseInt(bytes.slice(0, 2), 16) >= 0x80 ? `00${bytes}` : bytes;
}

function parseDays(days: string | undefined, problems: string[]): number {
  if (days === undefined) return DEFAULT_CRL_DAYS;
  const n = /^\d+$/.test(days) ? Number(days) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CRL_DAYS)
    problems.push(`--days: "${days}" must be a whole number of days from 1 to ${MAX_CRL_DAYS}`);
  return n;
}

async function serialOfClient(ca: CaDirectory, name: string): Promise<string> {
  if (name === '' || /[/\\\0]/.test(name) || name.startsWith('.') || name === 'ca') {
    throw new ConfigError([
      `NAME: "${name}" is not a client of ${JSON.stringify(ca.dir)} (give the NAME used with --client or add-client)`,
    ]);
  }
  const path = join(ca.dir, `${name}.crt`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readFile(path));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError([
      `${JSON.stringify(path)}: ${missing ? 'does not exist' : 'is not a readable PEM certificate'}; to revoke a certificate whose file is gone, use --serial HEX`,
    ]);
  }
  if (!issuedBy(cert, ca))
    throw new ConfigError([
      `${JSON.stringify(path)}: was not issued by ${JSON.stringify(join(ca.dir, 'ca.crt'))}; its CRL cannot revoke it`,
    ]);
  return certificateSerialHex(cert.raw);
}

/** The current CRL of the directory (checked as the proxy would check it), or an empty state when there is none. */
async function readCurrentCrl(ca: CaDirectory): Promise<CrlState> {
  const path = join(ca.dir, CRL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { crlNumber: 0n, entries: [] };
    throw new ConfigError([
      `${JSON.stringify(path)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  try {
    parseCrlPem(text, [ca.cert]);
    const blocks = splitPem(text).filter((b) => b.label === 'X509 CRL');
    if (blocks.length !== 1) throw new Error(`holds ${blocks.length} CRLs; this command keeps exactly one`);
    const body = (blocks[0]?.text ?? '').replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
    return readCrlState(Buffer.from(body, 'base64'));
  } catch (err) {
    throw new ConfigError([
      `${JSON.stringify(path)}: ${(err as Error).message}; move it away to start a new CRL (its revocations would be lost)`,
    ]);
  }
}

/**
 * Runs `update` holding DIR/.crl.pem.lock (created exclusively), so two commands at once cannot both read the same
 * CRL and write the same CRL Number, one losing the other's revocation.
 */
async function withCrlLock<T>(ca: CaDirectory, update: () => Promise<T>): Promise<T> {
  const lock = join(ca.dir, LOCK_FILE);
  try {
    await (await open(lock, 'wx', 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new ConfigError([
      `${JSON.stringify(lock)} exists: another certs revoke or certs crl is updating this CRL; if none is running (one was interrupted), remove the file and try again`,
    ]);
  }
  try {
    return await update();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function writeCrl(ca: CaDirectory, state: CrlState, days: number): Promise<{ path: string; nextUpdate: Date }> {
  const now = new Date();
  const der = await buildCrl({
    caCertDer: ca.cert.raw,
    caKeyPem: ca.keyPem,
    entries: state.entries,
    crlNumber: state.crlNumber,
    now,
    days,
  });
  const [path] = await writeMaterialFiles(ca.dir, [{ name: CRL_FILE, contents: crlToPem(der), secret: false }], {
    force: true,
  });
  return { path: path as string, nextUpdate: new Date(now.getTime() + days * 86_400_000) };
}

function footer(path: string, crlNumber: bigint, count: number, nextUpdate: Date, dir: string): string[] {
  return [
    `${path}: CRL number ${crlNumber}, ${count} revoked, next update ${nextUpdate.toISOString()}`,
    `A proxy run with --crl ${path} applies it within --reload-interval (or at once on SIGHUP).`,
    `Re-sign it before the next update with \`mtls-sidecar certs crl ${JSON.stringify(dir)}\` (the proxy keeps enforcing a stale CRL, but warns).`,
  ];
}

export async function certsRevokeCommand(dir: string, names: string[], opts: RevokeOptions): Promise<void> {
  const problems: string[] = [];
  const days = parseDays(opts.days, problems);
  const flagged = opts.serials.map((s) => serialFromFlag(s, problems));
  if (names.length === 0 && opts.serials.length === 0)
    problems.push('give the NAME of a client to revoke (or --serial HEX)');
  if (problems.length > 0) throw new ConfigError(problems);
  const ca = await loadCaDirectory(dir);
  const wanted: Array<[label: string, serialHex: string]> = [];
  for (const name of names) wanted.push([`client "${name}"`, await serialOfClient(ca, name)]);
  for (const [i, hex] of flagged.entries()) if (hex !== undefined) wanted.push([`serial ${opts.serials[i]}`, hex]);

  const lines = await withCrlLock(ca, async () => {
    const state = await readCurrentCrl(ca);
    const known = new Set(state.entries.map((e) => canonical(e.serialHex)));
    const now = new Date();
    const out: string[] = [];
    const added: RevokedEntry[] = [];
    for (const [label, serialHex] of wanted) {
      const key = canonical(serialHex);
      if (known.has(key)) {
        out.push(`${label} (serial ${key}) was already revoked`);
        continue;
      }
      known.add(key);
      added.push({ serialHex, revocationDate: now });
      out.push(`revoked ${label} (serial ${key})`);
    }
    if (added.length > 0) {
      const next = { crlNumber: state.crlNumber + 1n, entries: [...state.entries, ...added] };
      const written = await writeCrl(ca, next, days);
      out.push(...footer(written.path, next.crlNumber, next.entries.length, written.nextUpdate, dir));
    }
    return out;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Re-signs the directory's CRL with the same entries (or writes an empty one): a new number, thisUpdate and
 * nextUpdate.
 */
export async function certsCrlCommand(dir: string, opts: CrlOptions): Promise<void> {
  const problems: string[] = [];
  const days = parseDays(opts.days, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const ca = await loadCaDirectory(dir);
  const lines = await withCrlLock(ca, async () => {
    const state = await readCurrentCrl(ca);
    const next = { crlNumber: state.crlNumber + 1n, entries: state.entries };
    const written = await writeCrl(ca, next, days);
    return footer(written.path, next.crlNumber, next.entries.length, written.nextUpdate, dir);
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}
