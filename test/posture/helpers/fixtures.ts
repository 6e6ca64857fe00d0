// Fixture /proc trees for unit tests of the probe: a status file and a mountinfo file in a temp directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StatusFields {
  uid?: number;
  gid?: number;
  capEff?: string;
  capBnd?: string;
  /** undefined writes the line with 0; null leaves the line out (kernels before 4.10). */
  noNewPrivs?: 0 | 1 | null;
  seccomp?: 0 | 1 | 2 | null;
}

/** Shaped like a real /proc/self/status (kernel 6.x), trimmed to the lines around the ones we read. */
export function formatStatus(fields: StatusFields): string {
  const uid = fields.uid ?? 0;
  const gid = fields.gid ?? 0;
  const lines = [
    'Name:\tnode',
    'Umask:\t0022',
    'State:\tR (running)',
    'Tgid:\t4242',
    'Pid:\t4242',
    'PPid:\t1',
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${gid}\t${gid}\t${gid}\t${gid}`,
    'Groups:\t',
    'CapInh:\t0000000000000000',
    `CapPrm:\t${fields.capEff ?? '0000000000000000'}`,
    `CapEff:\t${fields.capEff ?? '0000000000000000'}`,
    `CapBnd:\t${fields.capBnd ?? '0000000000000000'}`,
    'CapAmb:\t0000000000000000',
  ];
  if (fields.noNewPrivs !== null) lines.push(`NoNewPrivs:\t${fields.noNewPrivs ?? 0}`);
  if (fields.seccomp !== null) {
    lines.push(`Seccomp:\t${fields.seccomp ?? 0}`, `Seccomp_filters:\t${fields.seccomp === 2 ? 1 : 0}`);
  }
  lines.push('Speculation_Store_Bypass:\tthread vulnerable', 'voluntary_ctxt_switches:\t10', '');
  return lines.join('\n');
}

export const MOUNTINFO_ROOT_RW = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '28 27 0:25 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,size=4k',
  '',
].join('\n');

/** A fake /proc whose self/status and self/mountinfo are the given texts (null: file absent). */
export function makeProcRoot(
  status: string | null,
  mountinfo: string | null = MOUNTINFO_ROOT_RW,
): { procRoot: string; cleanup(): void } {
  const procRoot = mkdtempSync(join(tmpdir(), 'posture-proc-'));
  mkdirSync(join(procRoot, 'self'));
  if (status !== null) writeFileSync(join(procRoot, 'self/status'), status);
  if (mountinfo !== null) writeFileSync(join(procRoot, 'self/mountinfo'), mountinfo);
  return { procRoot, cleanup: () => rmSync(procRoot, { recursive: true, force: true }) };
}

/** An empty directory used as fsRoot, so the real host's sockets and tokens are not seen. */
export function makeFsRoot(): { fsRoot: string; cleanup(): void } {
  const fsRoot = mkdtempSync(join(tmpdir(), 'posture-fs-'));
  return { fsRoot, cleanup: () => rmSync(fsRoot, { recursive: true, force: true }) };
}

/** The full bounding set of a 6.x kernel with every capability (41 bits). */
export const FULL_CAPS = '000001ffffffffff';
