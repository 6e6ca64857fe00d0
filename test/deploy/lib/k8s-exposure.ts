// Checks what the manifests expose: Services and NetworkPolicies admit only 8443, and the sidecar is wired right.
import type { NetworkPolicy, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import type { Probe, Service } from 'kubernetes-types/core/v1.js';
import {
  describeDoc,
  findWorkloads,
  listContainers,
  selectsLabels,
  type Finding,
  type K8sDoc,
  type Workload,
} from './k8s-docs.js';

export const TLS_PORT = 8443;
export const METRICS_PORT = 9090;
export const SIDECAR_CONTAINER = 'mtls-sidecar';

/** Container port names declared by the pods a selector picks (or by all pods, without a selector). */
function resolvePortName(workloads: Workload[], selector: Record<string, unknown> | undefined, name: string): number[] {
  const picked = selector ? workloads.filter((w) => selectsLabels(selector, w.labels)) : workloads;
  return picked
    .flatMap((w) => listContainers(w))
    .flatMap(({ container }) => container.ports ?? [])
    .filter((p) => p.name === name)
    .map((p) => p.containerPort);
}

function resolvesTo(port: number | string | undefined, names: (n: string) => number[], want: number): boolean {
  if (typeof port === 'number') return port === want;
  if (typeof port === 'string') {
    const resolved = names(port);
    return resolved.length > 0 && resolved.every((p) => p === want);
  }
  return false;
}

/** Services may publish only the TLS port, and only to the TLS container port. */
export function checkServiceExposure(docs: K8sDoc[]): Finding[] {
  const findings: Finding[] = [];
  const workloads = findWorkloads(docs);
  for (const doc of docs.filter((d) => d.kind === 'Service')) {
    const svc = doc as Service;
    const where = describeDoc(doc);
    const selector = svc.spec?.selector;
    const names = (n: string): number[] => resolvePortName(workloads, selector, n);
    if (svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer') {
      findings.push({
        rule: 'service-type',
        where,
        message: 'use a ClusterIP Service; publish it through your ingress or gateway',
      });
    }
    (svc.spec?.ports ?? []).forEach((p, i) => {
      const target = p.targetPort ?? p.port;
      if (p.port !== TLS_PORT || !resolvesTo(target, names, TLS_PORT)) {
        findings.push({
          rule: 'service-port',
          where: `${where} spec.ports[${i}]`,
          message: `only port ${TLS_PORT} (the mTLS listener) may be exposed; found port ${p.port} -> ${String(target)}`,
        });
      }
    });
  }
  return findings;
}

function portAllowed(p: NetworkPolicyPort, names: (n: string) => number[]): boolean {
  return (p.protocol ?? 'TCP') === 'TCP' && p.endPort === undefined && resolvesTo(p.port, names, TLS_PORT);
}

/** Every workload is selected by a NetworkPolicy whose ingress rules admit the TLS port and nothing else. */
export function checkNetworkPolicies(docs: K8sDoc[]): Finding[] {
  const findings: Finding[] = [];
  const workloads = findWorkloads(docs);
  const policies = docs.filter((d) => d.kind === 'NetworkPolicy') as Array<K8sDoc & NetworkPolicy>;
  for (const np of policies) {
    if (np.spec?.podSelector?.matchExpressions) {
      findings.push({
        rule: 'network-policy-selector',
        where: describeDoc(np),
        message: 'use matchLabels so the selection can be checked',
      });
    }
  }
  for (const w of workloads) {
    // An empty podSelector selects every pod in the namespace.
    const selecting = policies.filter((np) => {
      const sel = np.spec?.podSelector;
      if (!sel || sel.matchExpressions) return false;
      return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => w.labels[k] === v);
    });
    const ingress = selecting.filter((np) => (np.spec?.policyTypes ?? ['Ingress']).includes('Ingress'));
    if (ingress.length === 0) {
      findings.push({
        rule: 'network-policy-missing',
        where: w.ref,
        message: 'no NetworkPolicy restricts ingress to this pod',
      });
    }
    const names = (n: string): number[] => resolvePortName([w], undefined, n);
    for (const np of ingress) {
      (np.spec?.ingress ?? []).forEach((rule, i) => {
        const ports = rule.ports ?? [];
        if (ports.length === 0 || !ports.every((p) => portAllowed(p, names))) {
          findings.push({
            rule: 'network-policy-port',
            where: `${describeDoc(np)} spec.ingress[${i}]`,
            message: `ingress must be limited to TCP ${TLS_PORT}; a rule without ports admits every port`,
          });
        }
      });
    }
  }
  return findings;
}

function probeOnMetrics(probe: Probe | undefined, path: string, names: (n: string) => number[]): boolean {
  const get = probe?.httpGet;
  return (
    get !== undefined &&
    get.path === path &&
    (get.scheme ?? 'HTTP') === 'HTTP' &&
    resolvesTo(get.port, names, METRICS_PORT)
  );
}

/** Value following `--flag` (or `--flag=value`) in an argument list. */
function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/** The sidecar container: probes on the metrics port, metrics reachable by the kubelet, TLS Secret read-only. */
export function checkSidecarWiring(docs: K8sDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const w of findWorkloads(docs)) {
    const sidecars = listContainers(w).filter(({ container }) => container.name === SIDECAR_CONTAINER);
    if (sidecars.length === 0) {
      findings.push({ rule: 'sidecar-missing', where: w.ref, message: `no container named ${SIDECAR_CONTAINER}` });
    }
    const names = (n: string): number[] => resolvePortName([w], undefined, n);
    for (const { container: c, path } of sidecars) {
      const report = (rule: string, message: string): void => {
        findings.push({ rule, where: `${w.ref} ${path}`, message });
      };
      if (!probeOnMetrics(c.livenessProbe, '/healthz', names))
        report('probes', `livenessProbe: httpGet /healthz on port ${METRICS_PORT}`);
      if (!probeOnMetrics(c.readinessProbe, '/readyz', names))
        report('probes', `readinessProbe: httpGet /readyz on port ${METRICS_PORT}`);
      const args = [...(c.command ?? []), ...(c.args ?? [])];
      const metrics = flagValue(args, '--metrics-listen') ?? '127.0.0.1:9090';
      if (!metrics.endsWith(`:${METRICS_PORT}`) || /^(127\.|localhost|\[::1\])/.test(metrics)) {
        report(
          'metrics-listen',
          `--metrics-listen must be a pod address on port ${METRICS_PORT} (e.g. 0.0.0.0:9090) so the kubelet can probe it`,
        );
      }
      const upstream = flagValue(args, '--upstream') ?? '';
      if (!/^(http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]|https:\/\/|unix:)/.test(upstream)) {
        report('upstream-loopback', 'a plain-HTTP --upstream must be a loopback address inside the pod');
      }
      const secretVolumes = new Set((w.podSpec.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
      const mounts = (c.volumeMounts ?? []).filter((m) => secretVolumes.has(m.name));
      if (mounts.length === 0) report('tls-secret', 'mount the TLS Secret into the sidecar');
      for (const m of mounts) {
        if (m.readOnly !== true) report('tls-secret', `volumeMount ${m.name} must be readOnly: true`);
        if (m.subPath !== undefined || m.subPathExpr !== undefined) {
          report('tls-secret', `volumeMount ${m.name} must not use subPath: subPath mounts never see a rotated Secret`);
        }
      }
    }
  }
  return findings;
}
