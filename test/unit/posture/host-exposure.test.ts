// The pure judgements behind the host-exposure findings, on mountinfo lines and interface lists taken from real podman
// runs (runc, kernel 6.x): each escape path is seen, and the restricted container and ordinary mounts are not.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  hostFilesystemMounts,
  hostInterfaces,
  isInitialNamespace,
  parseNamespaceLink,
  parseNetDev,
  procMountsElsewhere,
  runtimeSocketMounts,
  writableKernelMounts,
} from '../../../src/posture/host-exposure.js';
import { parseMountinfo } from '../../../src/posture/mountinfo.js';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { formatStatus } from '../../posture/helpers/fixtures.js';

const RESTRICTED = parseMountinfo(
  [
    '79 54 0:41 / / ro,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/Q',
    '80 79 0:44 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755',
    '81 79 254:0 /tmp/mtls-container-x/secret /etc/mtls-sidecar/tls ro,relatime - ext4 /dev/vda rw',
    '106 79 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
    '107 79 0:48 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    '108 79 0:46 / /tmp rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=16384k',
    '90 106 0:29 /libpod_parent/libpod-aa /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu',
    '58 107 0:48 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw',
    '60 107 0:44 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755',
    '116 79 254:0 /run/containers/storage/overlay-containers/ab/userdata/hosts /etc/hosts ro,nosuid - ext4 /dev/vda rw',
    '117 79 254:0 / /data rw,relatime - ext4 /dev/vdb rw',
    '',
  ].join('\n'),
);

const PRIVILEGED = parseMountinfo(
  [
    '79 54 0:41 / / rw,relatime - overlay overlay rw',
    '80 79 0:44 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    '82 79 0:46 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw',
    '90 89 0:29 /libpod_parent/libpod-aa /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu',
    '',
  ].join('\n'),
);

const HOST_MOUNTS = parseMountinfo(
  [
    '79 54 0:41 / / ro,relatime - overlay overlay rw',
    '81 79 254:0 / /host ro,relatime - ext4 /dev/vda rw,discard',
    '83 81 0:21 / /host/proc rw,relatime - proc proc rw',
    '112 79 0:21 / /host-proc ro,relatime - proc proc rw',
    '113 79 254:0 /etc /host-etc ro,relatime - ext4 /dev/vda rw',
    '114 79 254:0 /tmp/t/docker.sock /var/run/docker.sock rw,relatime - ext4 /dev/vda rw',
    '115 79 254:0 /run/containerd/containerd.sock /x/c.sock rw,relatime - ext4 /dev/vda rw',
    '',
  ].join('\n'),
);

t.test("namespace links: the kernel's initial inodes mean the host's namespace", async (t) => {
  t.equal(parseNamespaceLink('pid:[4026531836]'), 4026531836);
  t.equal(parseNamespaceLink('garbage'), null);
  t.equal(isInitialNamespace('pid', 4026531836), true);
  t.equal(isInitialNamespace('net', 4026531833), true);
  t.equal(isInitialNamespace('ipc', 4026531839), true);
  t.equal(isInitialNamespace('mnt', 4026531832), true);
  t.equal(isInitialNamespace('pid', 4026532177), false, "a container's own (dynamic, from 0xF0000000 up)");
  t.equal(isInitialNamespace('pid', null), null);
});

t.test("interfaces: host-only names are evidence, a container's own are not", async (t) => {
  const dev = 'Inter-|   Receive\n face |bytes\n    lo: 1 2\n  eth0: 1 2\n tunl0: 0 0\n  sit0: 0 0\n';
  t.same(parseNetDev(dev), ['lo', 'eth0', 'tunl0', 'sit0']);
  t.same(
    hostInterfaces(['lo', 'eth0', 'net1', 'tunl0', 'sit0', 'ip6tnl0']),
    [],
    'container namespace (several networks, fallback tunnels)',
  );
  t.same(hostInterfaces(['lo', 'eth0', 'ifb0', 'docker0', 'enp0s3', 'veth12ab', 'cni0']), [
    'ifb0',
    'docker0',
    'enp0s3',
    'veth12ab',
    'cni0',
  ]);
});

t.test('the restricted container shows no host exposure', async (t) => {
  t.same(procMountsElsewhere(RESTRICTED), []);
  t.same(
    hostFilesystemMounts(RESTRICTED, () => false),
    [],
    'a data volume mounted whole is not a host root',
  );
  t.same(runtimeSocketMounts(RESTRICTED), []);
  t.same(writableKernelMounts(RESTRICTED), [], '/sys, /proc/sys and cgroups are ro');
});

t.test('a privileged container leaves kernel interfaces writable', async (t) => {
  t.same(writableKernelMounts(PRIVILEGED), ['/sys', '/proc/sys', '/sys/fs/cgroup/cpu']);
});

t.test('host /proc, host /, a sensitive host directory and runtime sockets are found wherever mounted', async (t) => {
  t.same(procMountsElsewhere(HOST_MOUNTS), ['/host/proc', '/host-proc']);
  t.same(
    hostFilesystemMounts(HOST_MOUNTS, (mp) => mp === '/host'),
    ['/host (host /)', '/host-etc (host /etc)'],
  );
  t.same(runtimeSocketMounts(HOST_MOUNTS), ['/var/run/docker.sock', '/x/c.sock']);
});

t.test('the probe reads namespace links; outside a container one info note stands for all of it', async (t) => {
  const procRoot = mkdtempSync(join(tmpdir(), 'posture-ns-'));
  t.teardown(() => rmSync(procRoot, { recursive: true, force: true }));
  mkdirSync(join(procRoot, 'self/ns'), { recursive: true });
  writeFileSync(join(procRoot, 'self/status'), formatStatus({ uid: 10001, gid: 10001, noNewPrivs: 1, seccomp: 2 }));
  writeFileSync(join(procRoot, 'self/mountinfo'), '27 1 254:0 / / ro,relatime - overlay overlay rw\n');
  const fsRoot = mkdtempSync(join(tmpdir(), 'posture-fs-'));
  t.teardown(() => rmSync(fsRoot, { recursive: true, force: true }));
  symlinkSync('pid:[4026531836]', join(procRoot, 'self/ns/pid'));
  symlinkSync('mnt:[4026532174]', join(procRoot, 'self/ns/mnt'));
  const ids = (): string[] =>
    evaluatePosture(probePosture({ keyFiles: [] }, { procRoot, fsRoot })).map((f) => `${f.severity} ${f.id}`);
  t.same(ids(), ['warn host-pid-namespace'], 'a container that shares the host PID namespace');
  rmSync(join(procRoot, 'self/ns/mnt'));
  symlinkSync('mnt:[4026531832]', join(procRoot, 'self/ns/mnt'));
  t.same(ids(), ['info not-in-container'], "the host's own mount namespace: not contained at all");
});
