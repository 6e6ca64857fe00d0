// Decodes the hexadecimal capability masks of /proc/self/status into capability names.

/** Linux capability names by bit number (include/uapi/linux/capability.h). */
const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/**
 * Capabilities that let a compromised process escape its container or read/alter what it should not
 * (README "Containment"); their presence in the effective set is critical.
 */
export const DANGEROUS_CAPABILITIES: readonly string[] = [
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_SYS_MODULE',
  'CAP_NET_ADMIN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
];

/**
 * Turns a mask such as `000001fffeffffff` into names, lowest bit first. A bit newer than this table
 * is named `CAP_<bit>` rather than dropped, so an unknown capability is still reported.
 * Returns null for text that is not a hexadecimal mask.
 */
export function decodeCapabilityMask(hex: string): string[] | null {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) return null;
  let mask = BigInt(`0x${text}`);
  const names: string[] = [];
  for (let bit = 0; mask !== 0n; bit++, mask >>= 1n) {
    if ((mask & 1n) === 1n) names.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return names;
}

/** The dangerous capabilities present in `names`, in the order of DANGEROUS_CAPABILITIES. */
export function selectDangerousCapabilities(names: readonly string[]): string[] {
  return DANGEROUS_CAPABILITIES.filter((cap) => names.includes(cap));
}
