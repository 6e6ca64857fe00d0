// Reads what the host exposes to this process (namespaces, mounts, devices, kernel interfaces); read-only, never
// throws.
import { accessSync, constants, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_DEVICES,
  HOST_CRITICAL_DEVICE,
  hostFilesystemMounts,
  hostInterfaces,
  isInitialNamespace,
  parseNamespaceLink,
  parseNetDev,
  procMountsElsewhere,
  runtimeSocketMounts,
  writableKernelMounts,
  type NamespaceKind,
} from './host-exposure.js';
import type { MountEntry } from './mountinfo.js';

export interface HostExposureFacts {
  /** True when this process shares the host's namespace of that kind; null when it cannot be told. */
  hostNamespaces: Record<NamespaceKind, boolean | null>;
  /** Network interfaces that exist only in a host's network namespace (eno1, docker0, veth…). */
  hostInterfaces: string[];
  hostProcMounts: string[];
  hostFilesystemMounts: string[];
  /** Runtime sockets bind-mounted anywhere, with whether this process may connect to them. */
  socketMounts: { path: string; writable: boolean }[];
  /** Device nodes beyond the OCI default set, and those of them this process can open for host disks/memory. */
  devices: { exposed: string[]; openable: string[] };
  /** /sys, /proc/sys or cgroup mounts left writable, and kernel files this process can write that run host commands. */
  kernel: { writableMounts: string[]; writableFiles: string[] };
}

type Unreadable = { what: string; error: string }[];

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Missing is not a problem (a fixture, a kernel without the file); anything else is reported. */
function quietly<T>(fallback: T, what: string, unreadable: Unreadable, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!['ENOENT', 'ENOTDIR'].includes(codeOf(error))) unreadable.push({ what, error: codeOf(error) });
    return fallback;
  }
}

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function readNamespaces(procRoot: string, unreadable: Unreadable): HostExposureFacts['hostNamespaces'] {
  const read = (kind: NamespaceKind): boolean | null => {
    const path = join(procRoot, 'self/ns', kind);
    return quietly(null, path, unreadable, () => isInitialNamespace(kind, parseNamespaceLink(readlinkSync(path))));
  };
  return { pid: read('pid'), net: read('net'), ipc: read('ipc'), mnt: read('mnt') };
}

function readDevices(fsRoot: string, unreadable: Unreadable): HostExposureFacts['devices'] {
  const dir = join(fsRoot, 'dev');
  const exposed: string[] = [];
  const openable: string[] = [];
  for (const name of quietly<string[]>([], dir, unreadable, () => readdirSync(dir))) {
    const path = join(dir, name);
    const stat = quietly(null, path, unreadable, () => lstatSync(path));
    if (stat === null || !(stat.isBlockDevice() || (stat.isCharacterDevice() && !DEFAULT_DEVICES.includes(name))))
      continue;
    exposed.push(name);
    const hostData = stat.isBlockDevice() || HOST_CRITICAL_DEVICE.test(name);
    if (hostData && (can(path, constants.R_OK) || can(path, constants.W_OK))) openable.push(name);
  }
  return { exposed: exposed.sort(), openable: openable.sort() };
}

/** Files whose contents the kernel runs as root on the host (core_pattern, modprobe, uevent_helper, release_agent). */
function kernelCommandFiles(entries: readonly MountEntry[], procRoot: string, fsRoot: string): string[] {
  const cgroupV1 = entries.filter((e) => e.fsType === 'cgroup').map((e) => join(fsRoot, e.mountPoint, 'release_agent'));
  return [
    join(procRoot, 'sys/kernel/core_pattern'),
    join(procRoot, 'sys/kernel/modprobe'),
    join(procRoot, 'sysrq-trigger'),
    join(fsRoot, 'sys/kernel/uevent_helper'),
    ...cgroupV1,
  ];
}

function looksLikeOsRoot(fsRoot: string, mountPoint: string): boolean {
  const has = (name: string): boolean => {
    try {
      return statSync(join(fsRoot, mountPoint, name)).isDirectory();
    } catch {
      return false;
    }
  };
  return has('etc') && has('usr');
}

/** Gathers the host-exposure facts from /proc, the mount table and the filesystem. */
export function probeHostExposure(
  entries: readonly MountEntry[],
  opts: { procRoot: string; fsRoot: string },
  unreadable: Unreadable,
): HostExposureFacts {
  const netDevPath = join(opts.procRoot, 'self/net/dev');
  const interfaces = quietly<string[]>([], netDevPath, unreadable, () => parseNetDev(readFileSync(netDevPath, 'utf8')));
  const socketMounts = runtimeSocketMounts(entries).map((path) => ({
    path,
    writable: can(join(opts.fsRoot, path), constants.W_OK),
  }));
  return {
    hostNamespaces: readNamespaces(opts.procRoot, unreadable),
    hostInterfaces: hostInterfaces(interfaces),
    hostProcMounts: procMountsElsewhere(entries),
    hostFilesystemMounts: hostFilesystemMounts(entries, (mountPoint) => looksLikeOsRoot(opts.fsRoot, mountPoint)),
    socketMounts,
    devices: readDevices(opts.fsRoot, unreadable),
    kernel: {
      writableMounts: writableKernelMounts(entries),
      writableFiles: kernelCommandFiles(entries, opts.procRoot, opts.fsRoot).filter((path) =>
        can(path, constants.W_OK),
      ),
    },
  };
}
