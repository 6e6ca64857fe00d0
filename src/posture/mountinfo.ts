// Parses /proc/self/mountinfo text and decides whether the visible root filesystem is read-only.

export interface MountEntry {
  id: number;
  parentId: number;
  /** The path within its filesystem that is mounted (a bind mount's source, relative to that filesystem). */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  fsType: string;
  superOptions: string[];
}

/** The kernel escapes space, tab, newline and backslash in paths as three-digit octal (`\040`). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses mountinfo text; malformed lines are skipped rather than trusted. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator < 0 || fields.length < separator + 4) continue;
    const id = Number(fields[0]);
    const parentId = Number(fields[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId)) continue;
    entries.push({
      id,
      parentId,
      root: unescapeMountPath(fields[3] ?? ''),
      mountPoint: unescapeMountPath(fields[4] ?? ''),
      mountOptions: (fields[5] ?? '').split(','),
      fsType: fields[separator + 1] ?? '',
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return entries;
}

/**
 * The mount a path lookup of `/` lands on. Mounts can be stacked on `/`; the visible one is the
 * mount at `/` that no other mount at `/` sits on top of (the last such line when in doubt).
 */
export function findRootMount(entries: readonly MountEntry[]): MountEntry | null {
  const roots = entries.filter((entry) => entry.mountPoint === '/');
  const covered = new Set(roots.map((entry) => entry.parentId));
  const visible = roots.filter((entry) => !covered.has(entry.id) || entry.parentId === entry.id);
  return visible.at(-1) ?? roots.at(-1) ?? null;
}

/**
 * True when `/` is read-only, either per mount (`mount -o remount,bind,ro /`, Kubernetes
 * readOnlyRootFilesystem) or for the whole filesystem; null when mountinfo shows no root mount.
 */
export function isRootReadOnly(mountinfoText: string): boolean | null {
  const root = findRootMount(parseMountinfo(mountinfoText));
  if (root === null) return null;
  return root.mountOptions.includes('ro') || root.superOptions.includes('ro');
}
