// Builds the shipped Dockerfile, unchanged, once per content: the base images go in through its build args.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBaseImages } from './base-images.js';
import { REPO_ROOT } from './paths.js';
import { imageExists, podman, podmanOk } from './podman.js';

const CONTEXT_FILES = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
const LOCK_DIR = join(tmpdir(), 'mtls-sidecar-image-build.lock');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** A digest of what the build reads (context files, src/, the base images), so an unchanged tree is built once. */
function contextDigest(bases: { build: string; runtime: string }): string {
  const hash = createHash('sha256');
  const files = [...CONTEXT_FILES.map((f) => join(REPO_ROOT, f)), ...filesUnder(join(REPO_ROOT, 'src')).sort()];
  for (const file of files) hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file));
  hash.update(bases.build).update(bases.runtime);
  return hash.digest('hex').slice(0, 16);
}

function lockHolderAlive(): boolean {
  try {
    process.kill(Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8')), 0);
    return true;
  } catch (error) {
    // EPERM: alive but not ours to signal; a missing or unreadable pid file is a lock being made right now.
    const code = (error as NodeJS.ErrnoException).code;
    const age = Date.now() - (statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return code === 'EPERM' || (code === 'ENOENT' && age < 60_000);
  }
}

/** One build at a time across test files: a directory made with mkdir is the lock, taken over when its holder died. */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch {
      if (!lockHolderAlive()) rmSync(LOCK_DIR, { recursive: true, force: true });
      else await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** npm's cache on this machine, mounted into the build's RUN steps so `npm ci` inside downloads little. */
function npmCacheDir(): string | undefined {
  try {
    const dir = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Earlier test builds of the image are superseded by this one; their shared layers stay as build cache. */
async function removeOlderTags(current: string): Promise<void> {
  const repository = current.slice(0, current.lastIndexOf(':'));
  const tags = (await podmanOk(['images', '--format', '{{.Repository}}:{{.Tag}}', repository]))
    .split('\n')
    .map((l) => l.trim());
  const older = tags.filter((tag) => tag.startsWith(`${repository}:test-`) && tag !== current);
  // Best effort: an image still used by a container stays.
  if (older.length > 0) await podman(['rmi', ...older]);
}

export interface ShippedImage {
  tag: string;
  bases: { build: string; runtime: string };
}

/**
 * The image of the repository's Dockerfile. `--network host` only lets `npm ci` inside the build reach the npm
 * registry; the containers the tests run never use the host network unless a test means to.
 */
export async function ensureShippedImage(): Promise<ShippedImage> {
  return withBuildLock(async () => {
    const bases = await ensureBaseImages();
    const tag = `localhost/mtls-sidecar:test-${contextDigest(bases)}`;
    if (await imageExists(tag)) {
      await removeOlderTags(tag);
      return { tag, bases };
    }
    const cache = npmCacheDir();
    const cacheMount = cache !== undefined ? ['--volume', `${cache}:/root/.npm`] : [];
    await podmanOk(
      [
        'build',
        '--network',
        'host',
        ...cacheMount,
        '--build-arg',
        `BUILD_IMAGE=${bases.build}`,
        '--build-arg',
        `RUNTIME_IMAGE=${bases.runtime}`,
        '-t',
        tag,
        '-f',
        join(REPO_ROOT, 'Dockerfile'),
        REPO_ROOT,
      ],
      { timeoutMs: 540_000 },
    );
    await removeOlderTags(tag);
    return { tag, bases };
  });
}
