// Checks pod specs against the Pod Security Standards "restricted" profile (v1.30) plus this project's own rules.
import type { Container, PodSecurityContext, SecurityContext } from 'kubernetes-types/core/v1.js';
import { findWorkloads, listContainers, type Finding, type K8sDoc, type Workload } from './k8s-docs.js';

// Restricted profile: the only volume types allowed, and the only capability that may be added.
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const ADDABLE_CAPABILITIES = new Set(['NET_BIND_SERVICE']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SECCOMP_ALLOWED = new Set(['RuntimeDefault', 'Localhost']);

type Report = (rule: string, path: string, message: string) => void;

function checkPodLevel(w: Workload, report: Report): void {
  const spec = w.podSpec;
  const sc: PodSecurityContext = spec.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) report('host-namespaces', `${w.specPath}.${field}`, `${field} must be unset or false`);
  }
  if (spec.automountServiceAccountToken !== false) {
    report(
      'automount-service-account-token',
      `${w.specPath}.automountServiceAccountToken`,
      'set automountServiceAccountToken: false so no API token is mounted into the pod',
    );
  }
  (spec.volumes ?? []).forEach((v, i) => {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const type of types) {
      if (type === 'hostPath') {
        report('host-path', `${w.specPath}.volumes[${i}] (${v.name})`, 'hostPath volumes are forbidden');
      } else if (!RESTRICTED_VOLUME_TYPES.has(type)) {
        report(
          'volume-type',
          `${w.specPath}.volumes[${i}] (${v.name})`,
          `volume type ${type} is not allowed by the restricted profile`,
        );
      }
    }
  });
  for (const s of sc.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(s.name))
      report('sysctls', `${w.specPath}.securityContext.sysctls`, `sysctl ${s.name} is not in the safe set`);
  }
  if (sc.runAsUser === 0) report('run-as-user', `${w.specPath}.securityContext.runAsUser`, 'runAsUser must not be 0');
}

/** Rules where a container may inherit the pod-level value: runAsNonRoot, runAsUser, seccomp. */
function checkInherited(w: Workload, c: Container, path: string, report: Report): void {
  const pod: PodSecurityContext = w.podSpec.securityContext ?? {};
  const sc: SecurityContext = c.securityContext ?? {};
  const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  if (nonRoot !== true) {
    report('run-as-non-root', `${path}.securityContext.runAsNonRoot`, 'runAsNonRoot must be true (pod or container)');
  }
  const uid = sc.runAsUser ?? pod.runAsUser;
  if (uid === 0) {
    report('run-as-user', `${path}.securityContext.runAsUser`, 'runAsUser must not be 0');
  } else if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 1) {
    report('run-as-user', `${path}.securityContext.runAsUser`, 'set a numeric non-zero runAsUser, e.g. 10001');
  }
  const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp === undefined || !SECCOMP_ALLOWED.has(seccomp) || sc.seccompProfile?.type === 'Unconfined') {
    report(
      'seccomp',
      `${path}.securityContext.seccompProfile`,
      'seccompProfile.type must be RuntimeDefault or Localhost',
    );
  }
  for (const ctx of [pod, sc]) {
    const selinux = ctx.seLinuxOptions;
    if (
      selinux &&
      (!SELINUX_TYPES.has(selinux.type ?? '') || selinux.user !== undefined || selinux.role !== undefined)
    ) {
      report(
        'selinux',
        `${path}.securityContext.seLinuxOptions`,
        'only the container_* SELinux types are allowed; no user or role',
      );
    }
    const apparmor = ctx.appArmorProfile?.type;
    if (apparmor !== undefined && apparmor !== 'RuntimeDefault' && apparmor !== 'Localhost') {
      report(
        'apparmor',
        `${path}.securityContext.appArmorProfile`,
        'appArmorProfile must be RuntimeDefault or Localhost',
      );
    }
    if (ctx.windowsOptions?.hostProcess === true) {
      report(
        'host-process',
        `${path}.securityContext.windowsOptions.hostProcess`,
        'hostProcess containers are forbidden',
      );
    }
  }
}

function checkContainer(c: Container, path: string, report: Report): void {
  const sc: SecurityContext = c.securityContext ?? {};
  if (sc.privileged === true)
    report('privileged', `${path}.securityContext.privileged`, 'privileged must be unset or false');
  if (sc.allowPrivilegeEscalation !== false) {
    report(
      'allow-privilege-escalation',
      `${path}.securityContext.allowPrivilegeEscalation`,
      'set allowPrivilegeEscalation: false',
    );
  }
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) {
    report('capabilities-drop-all', `${path}.securityContext.capabilities.drop`, 'capabilities.drop must include ALL');
  }
  for (const cap of sc.capabilities?.add ?? []) {
    if (!ADDABLE_CAPABILITIES.has(cap)) {
      report(
        'capabilities-add',
        `${path}.securityContext.capabilities.add`,
        `capability ${cap} may not be added (only NET_BIND_SERVICE)`,
      );
    }
  }
  if (sc.procMount !== undefined && sc.procMount !== 'Default') {
    report('proc-mount', `${path}.securityContext.procMount`, 'procMount must be Default');
  }
  if (sc.readOnlyRootFilesystem !== true) {
    report(
      'read-only-root-filesystem',
      `${path}.securityContext.readOnlyRootFilesystem`,
      'set readOnlyRootFilesystem: true and mount an emptyDir where the process must write',
    );
  }
  (c.ports ?? []).forEach((p, i) => {
    if (p.hostPort !== undefined && p.hostPort !== 0) {
      report('host-port', `${path}.ports[${i}].hostPort`, 'hostPort must be unset or 0');
    }
  });
  for (const kind of ['requests', 'limits'] as const) {
    const set = c.resources?.[kind] ?? {};
    for (const resource of ['cpu', 'memory']) {
      if (set[resource] === undefined) {
        report('resources', `${path}.resources.${kind}.${resource}`, `set resources.${kind}.${resource}`);
      }
    }
  }
}

/** Every finding for every pod spec in the documents; an empty list means all pods pass. */
export function checkPodSecurity(docs: K8sDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const w of findWorkloads(docs)) {
    const report: Report = (rule, path, message) => findings.push({ rule, where: `${w.ref} ${path}`, message });
    checkPodLevel(w, report);
    for (const { container, path } of listContainers(w)) {
      checkInherited(w, container, path, report);
      checkContainer(container, path, report);
    }
  }
  return findings;
}
