// The shipped pod meets the restricted Pod Security profile and our rules, and exposes only the mTLS port.
import t from 'tap';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { runK8sCheckers } from './lib/k8s-checks.js';
import { readKustomization } from './lib/kustomize.js';
import { K8S_DIR } from './lib/paths.js';

const docs = readKustomization(K8S_DIR).docs.map((d) => d.doc);

t.test('every checker passes', async (t) => {
  t.same(runK8sCheckers(['pod-security', 'sidecar-wiring', 'service-exposure', 'network-policies'], docs), []);
});

// Read straight from the documents, not through the checkers, so a checker bug cannot hide a regression.
t.test('spot checks read from the manifests directly', async (t) => {
  const deployment = docs.find((d) => d.kind === 'Deployment') as Deployment | undefined;
  const pod = deployment?.spec?.template.spec;
  t.ok(pod, 'a Deployment with a pod template');
  t.equal(pod?.automountServiceAccountToken, false);
  t.equal(pod?.hostNetwork, undefined);
  t.same(
    pod?.containers.map((c) => c.name),
    ['mtls-sidecar', 'api'],
  );
  for (const c of pod?.containers ?? []) {
    t.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root`);
    t.same(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: drops ALL`);
    t.ok((c.securityContext?.runAsUser ?? 0) >= 10000, `${c.name}: numeric non-root uid`);
  }
  const api = pod?.containers.find((c) => c.name === 'api');
  t.ok(api?.args?.includes('tcp://127.0.0.1:8080'), 'the API binds loopback only');
  t.equal(api?.ports, undefined, 'the API declares no port');
  const services = docs.filter((d) => d.kind === 'Service') as Service[];
  t.equal(services.length, 1);
  t.same(
    services.flatMap((s) => s.spec?.ports?.map((p) => p.port) ?? []),
    [8443],
  );
});
