// Findings for what the host exposes: shared namespaces, host mounts, runtime sockets, devices, kernel interfaces.
import type { Finding } from './types.js';
import type { PostureFacts } from './probe.js';

const FIX_PRIVILEGED = 'Kubernetes: securityContext.privileged: false; compose: remove privileged: true and devices:';

function list(items: readonly string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Outside any container (the host's own mount namespace) every host resource is shared by design: one note instead. */
export function isUncontained(facts: PostureFacts): boolean {
  return facts.hostNamespaces.mnt === true;
}

function evaluateNamespaces(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.hostNamespaces.pid === true) {
    findings.push({
      id: 'host-pid-namespace',
      severity: 'warn',
      message:
        "the proxy shares the host's PID namespace (its pid namespace is the kernel's initial one): it sees every host process and their command lines, and can signal those of its uid",
      remediation: 'Kubernetes: remove hostPID: true; compose: remove pid: host',
    });
  }
  const hostNetEvidence =
    facts.hostNamespaces.net === true
      ? "its network namespace is the kernel's initial one"
      : facts.hostInterfaces.length > 0
        ? `host interfaces are visible: ${list(facts.hostInterfaces)}`
        : null;
  if (hostNetEvidence !== null) {
    findings.push({
      id: 'host-network-namespace',
      severity: 'warn',
      message: `the proxy shares the host's network namespace (${hostNetEvidence}): it can reach every service bound to the host's loopback, and the upstream on 127.0.0.1 is reachable by any host process`,
      remediation: 'Kubernetes: remove hostNetwork: true; compose: remove network_mode: host',
    });
  }
  if (facts.hostNamespaces.ipc === true) {
    findings.push({
      id: 'host-ipc-namespace',
      severity: 'warn',
      message: "the proxy shares the host's IPC namespace: host shared memory and message queues are reachable",
      remediation: 'Kubernetes: remove hostIPC: true; compose: remove ipc: host',
    });
  }
  return findings;
}

function evaluateHostMounts(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.hostProcMounts.length > 0) {
    findings.push({
      id: 'host-proc-mounted',
      severity: 'critical',
      message: `a proc filesystem is mounted besides /proc at ${list(facts.hostProcMounts)}: the host's /proc exposes every process's environment, memory maps and root directory (/proc/PID/root) to escape through`,
      remediation:
        'remove the mount: Kubernetes: drop the hostPath volume of /proc; compose: remove "- /proc:…" from volumes',
    });
  }
  if (facts.hostFilesystemMounts.length > 0) {
    findings.push({
      id: 'host-filesystem-mounted',
      severity: 'critical',
      message: `the host's filesystem is mounted: ${list(facts.hostFilesystemMounts)}`,
      remediation:
        'remove the mount: Kubernetes: no hostPath volumes (mount Secrets and emptyDir instead); compose: bind only the certificate directory, read_only',
    });
  }
  const unreachable = facts.socketMounts
    .filter((s) => !s.writable && !facts.runtimeSockets.includes(s.path))
    .map((s) => s.path);
  if (unreachable.length > 0) {
    findings.push({
      id: 'runtime-socket-mounted',
      severity: 'warn',
      message: `a container-runtime socket is mounted, though this uid cannot connect to it now: ${list(unreachable)}; a change of owner, mode or group on the host makes it a way out`,
      remediation:
        'remove the socket mount: Kubernetes: drop the hostPath volume and its volumeMounts entry; compose: remove "- /var/run/docker.sock:…" from volumes',
    });
  }
  return findings;
}

function evaluateKernelAccess(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  const { exposed, openable } = facts.devices;
  if (exposed.length > 0) {
    findings.push({
      id: 'host-devices',
      severity: openable.length > 0 ? 'critical' : 'warn',
      message:
        openable.length > 0
          ? `host devices are in /dev and this process can open disk or memory devices among them: ${list(openable)}`
          : `host devices are in /dev beyond the runtime's default set (as in a privileged container): ${list(exposed)}`,
      remediation: `${FIX_PRIVILEGED} entries`,
    });
  }
  const { writableFiles, writableMounts } = facts.kernel;
  if (writableFiles.length > 0 || writableMounts.length > 0) {
    findings.push({
      id: 'kernel-interfaces-writable',
      severity: writableFiles.length > 0 ? 'critical' : 'warn',
      message:
        writableFiles.length > 0
          ? `this process can write kernel files that run commands as root on the host: ${list(writableFiles)}`
          : `kernel interfaces are mounted writable (as in a privileged container), guarded only by file permissions: ${list(writableMounts)}`,
      remediation: `${FIX_PRIVILEGED}; never mount /sys or cgroups read-write`,
    });
  }
  return findings;
}

/** Host-exposure findings; outside a container only the one note that nothing is contained. */
export function evaluateHostExposure(facts: PostureFacts): Finding[] {
  if (isUncontained(facts)) {
    return [
      {
        id: 'not-in-container',
        severity: 'info',
        message:
          "the proxy runs in the host's own mount namespace, not in a container: host namespaces, devices and kernel interfaces are shared by design",
        remediation: 'run it in a container with the settings of deploy/kubernetes or deploy/compose',
      },
    ];
  }
  return [...evaluateNamespaces(facts), ...evaluateHostMounts(facts), ...evaluateKernelAccess(facts)];
}
