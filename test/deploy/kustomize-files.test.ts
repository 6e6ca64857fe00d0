// The kustomizations list exactly the files beside them, every file parses, and kustomize builds the same objects.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDoc } from './lib/k8s-docs.js';
import { runK8sCheckers } from './lib/k8s-checks.js';
import { buildKustomization, findKustomizeBuilder, readKustomization } from './lib/kustomize.js';
import { CERT_MANAGER_DIR, K8S_DIR } from './lib/paths.js';

for (const dir of [K8S_DIR, CERT_MANAGER_DIR]) {
  t.test(`${dir} lists every file and every listed file parses`, async (t) => {
    const result = readKustomization(dir);
    t.same(result.problems, []);
    t.ok(result.docs.filter((d) => d.doc.kind !== 'Kustomization').length >= 2, 'has resources');
  });
}

t.test('the listing check notices a missing resource and an unlisted file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gone.yaml\n  - ok.yaml\n',
  );
  writeFileSync(join(dir, 'ok.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n');
  writeFileSync(join(dir, 'forgotten.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n');
  const { problems } = readKustomization(dir);
  t.equal(problems.length, 2, problems.join('\n'));
  t.match(problems.join('\n'), /gone\.yaml does not exist/);
  t.match(problems.join('\n'), /forgotten\.yaml is not listed/);
});

const builder = findKustomizeBuilder();
t.test(
  'kustomize builds the same objects, and they pass every policy check',
  {
    skip: builder ? false : 'neither kustomize nor kubectl is installed; the listing check above stands in for it',
  },
  async (t) => {
    for (const dir of [K8S_DIR, CERT_MANAGER_DIR]) {
      const built = buildKustomization(builder as string[], dir);
      const listed = readKustomization(dir).docs.filter((d) => d.doc.kind !== 'Kustomization');
      t.same(built.map(describeDoc).sort(), listed.map((d) => describeDoc(d.doc)).sort(), `${dir}: same objects`);
      t.same(
        runK8sCheckers(['pod-security', 'service-exposure', 'network-policies', 'known-fields'], built),
        [],
        `${dir}: built output passes`,
      );
    }
  },
);
