// Turns posture facts into findings with a severity and the Kubernetes or compose setting that fixes each.
import { DANGEROUS_CAPABILITIES, selectDangerousCapabilities } from './capabilities.js';
import { evaluateHostExposure } from './findings-host.js';
import type { PostureFacts } from './probe.js';
import type { Finding, Severity } from './types.js';

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warn: 1, info: 2 };

const FIX_USER = 'Kubernetes: securityContext.runAsNonRoot: true, runAsUser: 10001; compose: user: "10001:10001"';
const FIX_CAPS =
  'Kubernetes: securityContext.capabilities.drop: [ALL]; compose: cap_drop: [ALL] (and no cap_add, no privileged: true)';
const FIX_NO_NEW_PRIVS =
  'Kubernetes: securityContext.allowPrivilegeEscalation: false; compose: security_opt: [no-new-privileges:true]';

function list(items: readonly string[]): string {
  return items.join(', ');
}

function evaluateIdentity(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.uid === 0) {
    findings.push({
      id: 'running-as-root',
      severity: 'critical',
      message: 'the proxy runs with effective uid 0 (root)',
      remediation: FIX_USER,
    });
  }
  if (facts.gid === 0) {
    findings.push({
      id: 'running-as-root-group',
      severity: 'info',
      message: 'the proxy runs with effective gid 0 (root group)',
      remediation: 'Kubernetes: securityContext.runAsGroup: 10001; compose: user: "10001:10001"',
    });
  }
  return findings;
}

function evaluateCapabilities(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  const effective = selectDangerousCapabilities(facts.capEff);
  if (effective.length > 0) {
    findings.push({
      id: 'dangerous-capability-effective',
      severity: 'critical',
      message: `dangerous capabilities are effective: ${list(effective)}`,
      remediation: FIX_CAPS,
    });
  }
  // Only the ones not already effective: an effective capability is reported above.
  const bounding = selectDangerousCapabilities(facts.capBnd).filter((cap) => !effective.includes(cap));
  if (bounding.length > 0) {
    const guarded = facts.noNewPrivs === true;
    findings.push({
      id: 'dangerous-capability-bounding',
      severity: guarded ? 'warn' : 'critical',
      message: guarded
        ? `dangerous capabilities remain in the bounding set (NoNewPrivs is on, so they cannot be regained): ${list(bounding)}`
        : `dangerous capabilities remain in the bounding set while NoNewPrivs is ${facts.noNewPrivs === null ? 'unknown' : 'off'}; a setuid or file-capability binary could raise them again: ${list(bounding)}`,
      remediation: guarded ? FIX_CAPS : `${FIX_CAPS}; and ${FIX_NO_NEW_PRIVS}`,
    });
  }
  const others = facts.capEff.filter((cap) => !DANGEROUS_CAPABILITIES.includes(cap));
  if (others.length > 0) {
    findings.push({
      id: 'other-capabilities-effective',
      severity: 'info',
      message: `other effective capabilities: ${list(others)}`,
      remediation: `${FIX_CAPS}; add back only what is needed (e.g. CAP_NET_BIND_SERVICE for a port below 1024)`,
    });
  }
  return findings;
}

function evaluateContainment(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  const sockets = [
    ...new Set([...facts.runtimeSockets, ...facts.socketMounts.filter((s) => s.writable).map((s) => s.path)]),
  ];
  if (sockets.length > 0) {
    findings.push({
      id: 'runtime-socket',
      severity: 'critical',
      message: `a container-runtime socket is reachable, which grants control of the host: ${list(sockets)}`,
      remediation:
        'remove the socket mount: Kubernetes: drop the hostPath volume and its volumeMounts entry; compose: remove "- /var/run/docker.sock:…" from volumes',
    });
  }
  if (facts.rootReadOnly === false) {
    findings.push({
      id: 'root-filesystem-writable',
      severity: 'warn',
      message: 'the root filesystem is writable',
      remediation: 'Kubernetes: securityContext.readOnlyRootFilesystem: true; compose: read_only: true',
    });
  }
  if (facts.noNewPrivs === false) {
    findings.push({
      id: 'no-new-privs-off',
      severity: 'warn',
      message: 'NoNewPrivs is off: executing a setuid or file-capability binary could gain privileges',
      remediation: FIX_NO_NEW_PRIVS,
    });
  }
  if (facts.seccompMode === 0) {
    findings.push({
      id: 'seccomp-off',
      severity: 'warn',
      message: 'no seccomp filter is applied',
      remediation:
        'Kubernetes: securityContext.seccompProfile.type: RuntimeDefault; compose: do not set security_opt: [seccomp:unconfined]',
    });
  }
  if (facts.serviceAccountToken !== null) {
    findings.push({
      id: 'service-account-token',
      severity: 'warn',
      message: `a Kubernetes service-account token is mounted at ${facts.serviceAccountToken}`,
      remediation: 'Kubernetes: automountServiceAccountToken: false in the pod spec (or on the ServiceAccount)',
    });
  }
  return findings;
}

function evaluateMaterial(facts: PostureFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.looseKeyFiles.length > 0) {
    findings.push({
      id: 'private-key-permissions',
      severity: 'warn',
      message: `private key files are accessible by group or others: ${list(facts.looseKeyFiles.map((k) => `${k.file} (mode ${k.mode})`))}`,
      remediation: 'chmod 0600 the key file; Kubernetes: set defaultMode: 0400 on the Secret volume',
    });
  }
  if (facts.exampleCertInUse) {
    findings.push({
      id: 'example-certificate',
      severity: 'warn',
      message: 'the server certificate is the shipped example from certs-example/, whose private key is public',
      remediation:
        'create your own certificates (mtls-sidecar certs init DIR, or your CA) and point --cert/--key at them',
    });
  }
  if (facts.plainHttpUpstream !== null) {
    findings.push({
      id: 'plaintext-upstream',
      severity: 'warn',
      message: `the upstream ${facts.plainHttpUpstream} is plain HTTP on a non-loopback address: anyone who reaches it directly can forge identity headers`,
      remediation:
        'keep the upstream on an internal network with no published port (compose: networks: {internal: true}), or use a unix: socket or an https:// upstream',
    });
  }
  if (facts.unreadable.length > 0) {
    findings.push({
      id: 'probe-unreadable',
      severity: 'warn',
      message: `posture could not be fully checked: ${list(facts.unreadable.map((u) => `${u.what}: ${u.error}`))}`,
      remediation: 'make the listed files readable by the proxy user, or run on Linux with /proc mounted',
    });
  }
  return findings;
}

/** Findings for the given facts, critical first; pure. */
export function evaluatePosture(facts: PostureFacts): Finding[] {
  const findings = [
    ...evaluateIdentity(facts),
    ...evaluateCapabilities(facts),
    ...evaluateContainment(facts),
    ...evaluateHostExposure(facts),
    ...evaluateMaterial(facts),
  ];
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
