// Checks manifests for unknown or mistyped fields by compiling each one as a TypeScript object literal
// that must satisfy its kubernetes-types (or crd-types) interface: excess-property checks catch typos.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describeDoc, type K8sDoc } from './k8s-docs.js';

const require = createRequire(import.meta.url);
const K8S_TYPES_DIR = dirname(require.resolve('kubernetes-types/package.json'));
const CRD_TYPES = join(dirname(fileURLToPath(import.meta.url)), 'crd-types.js');

/** `apiVersion/kind` → [module, exported type]. A kind missing here is reported, never skipped. */
const TYPE_FOR: Record<string, [string, string]> = {
  'v1/Service': [join(K8S_TYPES_DIR, 'core/v1.js'), 'Service'],
  'v1/ServiceAccount': [join(K8S_TYPES_DIR, 'core/v1.js'), 'ServiceAccount'],
  'v1/ConfigMap': [join(K8S_TYPES_DIR, 'core/v1.js'), 'ConfigMap'],
  'v1/Secret': [join(K8S_TYPES_DIR, 'core/v1.js'), 'Secret'],
  'v1/Pod': [join(K8S_TYPES_DIR, 'core/v1.js'), 'Pod'],
  'apps/v1/Deployment': [join(K8S_TYPES_DIR, 'apps/v1.js'), 'Deployment'],
  'apps/v1/StatefulSet': [join(K8S_TYPES_DIR, 'apps/v1.js'), 'StatefulSet'],
  'apps/v1/DaemonSet': [join(K8S_TYPES_DIR, 'apps/v1.js'), 'DaemonSet'],
  'networking.k8s.io/v1/NetworkPolicy': [join(K8S_TYPES_DIR, 'networking/v1.js'), 'NetworkPolicy'],
  'policy/v1/PodDisruptionBudget': [join(K8S_TYPES_DIR, 'policy/v1.js'), 'PodDisruptionBudget'],
  'cert-manager.io/v1/Certificate': [CRD_TYPES, 'Certificate'],
  'cert-manager.io/v1/Issuer': [CRD_TYPES, 'Issuer'],
  'cert-manager.io/v1/ClusterIssuer': [CRD_TYPES, 'Issuer'],
  'kustomize.config.k8s.io/v1beta1/Kustomization': [CRD_TYPES, 'Kustomization'],
};

export interface TypedDoc {
  /** File the document came from, for messages. */
  source: string;
  doc: K8sDoc;
}

export interface TypeProblem {
  source: string;
  where: string;
  message: string;
}

/** Type-checks every document in one compiler run; an empty result means every field is known and well typed. */
export function checkKnownFields(docs: TypedDoc[]): TypeProblem[] {
  const problems: TypeProblem[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'k8s-typecheck-'));
  try {
    const files = new Map<string, TypedDoc>();
    docs.forEach((entry, i) => {
      const key = `${String(entry.doc.apiVersion)}/${String(entry.doc.kind)}`;
      const target = TYPE_FOR[key];
      if (!target) {
        problems.push({
          source: entry.source,
          where: describeDoc(entry.doc),
          message: `no type known for ${key}; add it to TYPE_FOR`,
        });
        return;
      }
      const file = join(dir, `doc-${i}.ts`);
      // JSON is a valid TypeScript expression; `satisfies` keeps it a fresh literal, so excess properties are errors.
      writeFileSync(
        file,
        `import type { ${target[1]} as T } from ${JSON.stringify(target[0])};\n` +
          `export const doc = ${JSON.stringify(entry.doc, null, 2)} satisfies T;\n`,
      );
      files.set(file, entry);
    });
    const program = ts.createProgram([...files.keys()], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const entry = d.file ? files.get(d.file.fileName) : undefined;
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      problems.push({
        source: entry?.source ?? d.file?.fileName ?? '(compiler)',
        where: entry ? `${describeDoc(entry.doc)} (generated line ${line})` : '(compiler)',
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}
