// Writes generated certificate files atomically: keys 0600 from creation, never overwriting without force.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, lstat, mkdir, open, link, rename, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export interface OutputFile {
  /** A bare file name inside the target directory. */
  name: string;
  contents: string;
  /** Private key material: created mode 0600; otherwise 0644. */
  secret: boolean;
}

export interface WriteOptions {
  force: boolean;
  /** The flag to name in the refusal message. */
  forceFlag?: string;
}

export const SECRET_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;
/** Others may enter (to open the certificates by name, e.g. a container's uid through a bind mount) but not list it. */
export const DIRECTORY_MODE = 0o711;

async function pathExists(path: string): Promise<boolean> {
  try {
    // lstat: a dangling symlink is still something we would clobber.
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function describeExisting(paths: string[], forceFlag: string): ConfigError {
  return new ConfigError(
    paths.map((p) => `${p} already exists and was left untouched; pass ${forceFlag} to overwrite it`),
  );
}

function assertBareName(name: string): void {
  if (name === '' || name !== basename(name) || name === '.' || name === '..' || name.includes('\0')) {
    throw new Error(`writeMaterialFiles: "${name}" is not a plain file name`);
  }
}

// The temp file is created with its final mode in open(2), so a key is never readable by others,
// not even for the instant between creation and a chmod; fchmod then undoes any umask narrowing of
// a certificate (and is a no-op for keys under the usual umasks).
async function writeTempFile(dir: string, file: OutputFile): Promise<string> {
  const tmp = join(dir, `.${file.name}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = file.secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE;
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
  const handle = await open(tmp, flags, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(file.contents, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return tmp;
}

// Without force, link(2) fails atomically if the target appeared since the pre-check, so a file
// created concurrently is never replaced; with force, rename(2) swaps the file whole (and replaces
// a symlink itself rather than writing through it).
async function moveIntoPlace(tmp: string, target: string, opts: WriteOptions): Promise<void> {
  try {
    if (opts.force) {
      await rename(tmp, target);
      return;
    }
    await link(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw describeExisting([target], opts.forceFlag ?? '--force');
    }
    throw err;
  }
  await unlink(tmp);
}

/**
 * Writes every file into `dir` (created 0711 if missing, whatever the umask) and returns their absolute paths.
 * Without `force`, refuses before writing anything when any target exists, naming each one.
 */
export async function writeMaterialFiles(dir: string, files: OutputFile[], opts: WriteOptions): Promise<string[]> {
  const absDir = resolve(dir);
  for (const f of files) assertBareName(f.name);
  const created = await mkdir(absDir, { recursive: true, mode: DIRECTORY_MODE });
  if (created !== undefined) await chmod(absDir, DIRECTORY_MODE);
  const targets = files.map((f) => join(absDir, f.name));
  if (!opts.force) {
    const existing: string[] = [];
    for (const target of targets) if (await pathExists(target)) existing.push(target);
    if (existing.length > 0) throw describeExisting(existing, opts.forceFlag ?? '--force');
  }
  for (const [i, file] of files.entries()) {
    const target = targets[i] as string;
    const tmp = await writeTempFile(absDir, file);
    await moveIntoPlace(tmp, target, opts);
  }
  return targets;
}
