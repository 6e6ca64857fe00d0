// The Kubernetes checkers by name, so fixtures can say which ones judge them and tests can run them all.
import { type Finding, type K8sDoc } from './k8s-docs.js';
import { checkNetworkPolicies, checkServiceExposure, checkSidecarWiring } from './k8s-exposure.js';
import { checkKnownFields } from './k8s-typecheck.js';
import { checkPodSecurity } from './pod-security.js';

export type K8sChecker = (docs: K8sDoc[]) => Finding[];

export const K8S_CHECKERS: Record<string, K8sChecker> = {
  'pod-security': checkPodSecurity,
  'sidecar-wiring': checkSidecarWiring,
  'service-exposure': checkServiceExposure,
  'network-policies': checkNetworkPolicies,
  'known-fields': (docs) =>
    checkKnownFields(docs.map((doc) => ({ source: 'fixture', doc }))).map((p) => ({
      rule: 'known-fields',
      where: p.where,
      message: p.message,
    })),
};

/** Runs the named checkers; an unknown name throws so a fixture cannot silently check nothing. */
export function runK8sCheckers(names: string[], docs: K8sDoc[]): Finding[] {
  return names.flatMap((name) => {
    const checker = K8S_CHECKERS[name];
    if (!checker) throw new Error(`unknown checker ${name}; known: ${Object.keys(K8S_CHECKERS).join(', ')}`);
    return checker(docs);
  });
}

/** `# key: value` lines at the top of a fixture. */
export function readFixtureHeader(text: string): Record<string, string> {
  const header: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^#\s*([a-z-]+):\s*(.*)$/.exec(line);
    if (!m) break;
    header[m[1] as string] = (m[2] as string).trim();
  }
  return header;
}
