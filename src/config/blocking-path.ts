// Says which part of a path keeps this process from reading a file: a directory it cannot enter, or the file itself.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function ids(): string {
  return `uid ${process.getuid?.() ?? '?'}, gid ${process.getgid?.() ?? '?'}`;
}

function describeOwner(path: string): string {
  try {
    const stat = statSync(path);
    return `owner ${stat.uid}:${stat.gid}, mode 0${(stat.mode & 0o777).toString(8).padStart(3, '0')}`;
  } catch {
    return 'owner and mode unknown';
  }
}

/** The ancestors of `path`, outermost first (`/a/b/c.pem` → `/`, `/a`, `/a/b`). */
function ancestors(path: string): string[] {
  const dirs: string[] = [];
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dirname(dir) === dir) return dirs;
  }
}

/** The first directory on the way to `path` that this process may not enter (no search permission), if any. */
export function findBlockingDirectory(path: string): string | undefined {
  for (const dir of ancestors(path)) {
    try {
      accessSync(dir, constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return dir;
      return undefined;
    }
  }
  return undefined;
}

/**
 * Why a file gave EACCES: the blocking directory with its owner and mode, or the file's own owner and mode; and the
 * fix.
 */
export function describePermissionDenied(path: string | undefined): string {
  const who = `this process (${ids()})`;
  if (path === undefined) return `cannot be read by ${who}; fix its permissions or owner`;
  const blocking = findBlockingDirectory(path);
  if (blocking !== undefined) {
    return (
      `cannot be read by ${who}: the directory ${JSON.stringify(blocking)} (${describeOwner(blocking)}) does not let it in; ` +
      `let it search the directory (chmod o+x, or chown/chgrp it to the proxy's user or group; certs init makes directories 0711)`
    );
  }
  return `cannot be read by ${who}: the file (${describeOwner(path)}) is not readable to it; chown the file to the proxy's user (keeping mode 0600), or give its group read access`;
}
