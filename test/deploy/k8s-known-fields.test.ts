// Every Kubernetes document (and the cert-manager and kustomize ones) uses only fields its API defines, with the right
// types.
import t from 'tap';
import { checkKnownFields } from './lib/k8s-typecheck.js';
import { readKustomization } from './lib/kustomize.js';
import { CERT_MANAGER_DIR, K8S_DIR } from './lib/paths.js';

t.test('no unknown or mistyped field in deploy/kubernetes', async (t) => {
  const docs = [K8S_DIR, CERT_MANAGER_DIR].flatMap((dir) => readKustomization(dir).docs);
  const kinds = new Set(docs.map((d) => `${String(d.doc.apiVersion)}/${String(d.doc.kind)}`));
  for (const kind of [
    'apps/v1/Deployment',
    'v1/Service',
    'networking.k8s.io/v1/NetworkPolicy',
    'cert-manager.io/v1/Certificate',
  ]) {
    t.ok(kinds.has(kind), `checked a ${kind}`);
  }
  t.same(checkKnownFields(docs), []);
});
