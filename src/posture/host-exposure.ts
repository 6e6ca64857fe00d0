// Pure judgements of what the host exposes to this process: its namespaces, mounts, devices and kernel interfaces.
import type { MountEntry } from './mountinfo.js';

/**
 * The kernel gives the initial (host) namespaces fixed inode numbers (include/linux/proc_ns.h); every namespace
 * made later gets one from 0xF0000000 up. Fixed for pid, ipc, uts, user and cgroup since Linux 3.8–4.6; for
 * net and mnt only on recent kernels (older ones give the host's a dynamic number, so mnt/net stay unknown).
 */
export const INITIAL_NAMESPACE_INODES = {
  ipc: 0xefffffff,
  pid: 0xeffffffc,
  net: 0xeffffff9,
  mnt: 0xeffffff8,
} as const;

export type NamespaceKind = keyof typeof INITIAL_NAMESPACE_INODES;

/** `pid:[4026531836]` → 4026531836; null for anything else. */
export function parseNamespaceLink(link: string): number | null {
  const match = /^[a-z_]+:\[(\d+)\]$/.exec(link.trim());
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function isInitialNamespace(kind: NamespaceKind, inode: number | null): boolean | null {
  return inode === null ? null : inode === INITIAL_NAMESPACE_INODES[kind];
}

/** Interface names of /proc/self/net/dev (`  eth0: 123 …`). */
export function parseNetDev(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) names.push(line.slice(0, colon).trim());
  }
  return names;
}

/**
 * Interfaces that exist only in a host's network namespace: physical NICs by their predictable names, bridges,
 * the host ends of veth pairs and the devices of CNI plugins. A container's own namespace has lo, eth0 (netN with
 * several networks) and the fallback tunnels the kernel adds to every namespace (tunl0, sit0, …).
 */
const HOST_INTERFACE =
  /^(en[opsx]|eno|wl|ww|ib\d|docker|podman|cni|virbr|br-|veth|cali|cilium|flannel|kube-|vxlan|weave|bond|team|ifb)/;

export function hostInterfaces(names: readonly string[]): string[] {
  return names.filter((name) => HOST_INTERFACE.test(name));
}

/** Mount points a proc filesystem is mounted at besides /proc (and the runtime's masks under it). */
export function procMountsElsewhere(entries: readonly MountEntry[]): string[] {
  return entries
    .filter((e) => e.fsType === 'proc' && e.mountPoint !== '/proc' && !e.mountPoint.startsWith('/proc/'))
    .map((e) => e.mountPoint);
}

/**
 * Filesystems that live on a disk: one mounted whole (mount root `/`) away from `/` is a host disk in the container.
 */
const DISK_FILESYSTEMS = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'zfs',
  'f2fs',
  'jfs',
  'reiserfs',
  'bcachefs',
  'nilfs2',
]);

/** Host directories whose bind mount hands over the host (CIS Docker Benchmark 5.5). */
export const SENSITIVE_HOST_DIRECTORIES: readonly string[] = [
  '/etc',
  '/boot',
  '/usr',
  '/lib',
  '/root',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/containers',
  '/var/lib/kubelet',
  '/run',
  '/var/run',
];

/**
 * Mounts that put a host's own filesystem in reach: a disk filesystem mounted whole somewhere other than `/` that
 * looks like an operating system (`looksLikeOsRoot` checks for etc/ and usr/ under it), or a bind of a sensitive
 * host directory. Returns `MOUNT-POINT (host PATH)` descriptions.
 */
export function hostFilesystemMounts(
  entries: readonly MountEntry[],
  looksLikeOsRoot: (mountPoint: string) => boolean,
): string[] {
  const found: string[] = [];
  for (const e of entries) {
    if (e.mountPoint === '/' || !DISK_FILESYSTEMS.has(e.fsType)) continue;
    if (e.root === '/' && looksLikeOsRoot(e.mountPoint)) found.push(`${e.mountPoint} (host /)`);
    else if (SENSITIVE_HOST_DIRECTORIES.includes(e.root)) found.push(`${e.mountPoint} (host ${e.root})`);
  }
  return found;
}

export const RUNTIME_SOCKET_NAMES: readonly string[] = [
  'docker.sock',
  'containerd.sock',
  'crio.sock',
  'podman.sock',
  'dockershim.sock',
  'cri-dockerd.sock',
];

/** Mount points of bind-mounted container-runtime sockets, found by the host path's file name, wherever mounted. */
export function runtimeSocketMounts(entries: readonly MountEntry[]): string[] {
  return entries
    .filter((e) => RUNTIME_SOCKET_NAMES.some((name) => e.root.endsWith(`/${name}`)))
    .map((e) => e.mountPoint);
}

/** The mount a path lookup of `path` lands on: the longest mount point that is `path` or a parent of it (last wins). */
export function mountCovering(entries: readonly MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const e of entries) {
    const within = e.mountPoint === path || path.startsWith(e.mountPoint === '/' ? '/' : `${e.mountPoint}/`);
    if (within && (best === null || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/** Kernel interfaces a container runtime mounts read-only; writable here means the runtime did not. */
export function writableKernelMounts(entries: readonly MountEntry[]): string[] {
  const paths = [
    '/sys',
    '/proc/sys',
    ...entries.filter((e) => e.fsType === 'cgroup' || e.fsType === 'cgroup2').map((e) => e.mountPoint),
  ];
  return [...new Set(paths)].filter((path) => {
    const mount = mountCovering(entries, path);
    return (
      mount !== null &&
      mount.mountPoint !== '/' &&
      !mount.mountOptions.includes('ro') &&
      !mount.superOptions.includes('ro')
    );
  });
}

/** The device nodes an OCI runtime gives every container (runtime-spec, config-linux.md "Default Devices"). */
export const DEFAULT_DEVICES: readonly string[] = [
  'null',
  'zero',
  'full',
  'random',
  'urandom',
  'tty',
  'console',
  'ptmx',
];
/**
 * Character devices through which a process reads or writes the host's memory or I/O ports (disks are block devices).
 */
export const HOST_CRITICAL_DEVICE = /^(mem|kmem|port)$/;
