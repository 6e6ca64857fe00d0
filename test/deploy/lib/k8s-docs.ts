// Loads Kubernetes YAML documents and finds the pod templates, containers and labels the policy checkers judge.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { Container, PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';

/** One policy violation: which rule, where (kind/name and path), and what to change. */
export interface Finding {
  rule: string;
  where: string;
  message: string;
}

/** A parsed manifest: apiVersion and kind are read loosely because bad fixtures may lack them. */
export interface K8sDoc {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; labels?: Record<string, unknown> };
  spec?: unknown;
  [key: string]: unknown;
}

export interface Workload {
  /** `Deployment/orders-api` */
  ref: string;
  /** JSON-ish path of the pod spec inside the document, for messages. */
  specPath: string;
  podSpec: PodSpec;
  labels: Record<string, string>;
}

export interface NamedContainer {
  container: Container;
  /** `spec.template.spec.containers[0] (mtls-sidecar)` */
  path: string;
}

/** Parses every document of a multi-document YAML text; a syntax error throws with the file name. */
export function parseYamlDocs(text: string, source: string): K8sDoc[] {
  const docs: K8sDoc[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${source}: a document is not a mapping`);
    }
    docs.push(value as K8sDoc);
  }
  return docs;
}

export function readYamlDocs(file: string): K8sDoc[] {
  return parseYamlDocs(readFileSync(file, 'utf8'), file);
}

export function describeDoc(doc: K8sDoc): string {
  const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name : '(unnamed)';
  return `${String(doc.kind ?? '(no kind)')}/${name}`;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function stringLabels(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(value) ?? {})) out[k] = String(v);
  return out;
}

/** Every pod spec in the documents, wherever the workload kind keeps it. */
export function findWorkloads(docs: K8sDoc[]): Workload[] {
  const out: Workload[] = [];
  for (const doc of docs) {
    const ref = describeDoc(doc);
    const spec = asRecord(doc.spec);
    if (doc.kind === 'Pod' && spec) {
      out.push({
        ref,
        specPath: 'spec',
        podSpec: spec as unknown as PodSpec,
        labels: stringLabels(doc.metadata?.labels),
      });
      continue;
    }
    let template: PodTemplateSpec | undefined;
    let specPath = 'spec.template.spec';
    if (doc.kind === 'CronJob') {
      template = asRecord(asRecord(asRecord(spec?.jobTemplate)?.spec)?.template) as PodTemplateSpec | undefined;
      specPath = 'spec.jobTemplate.spec.template.spec';
    } else if (
      ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'].includes(
        String(doc.kind),
      )
    ) {
      template = asRecord(spec?.template) as PodTemplateSpec | undefined;
    }
    const podSpec = asRecord(template?.spec);
    if (template && podSpec) {
      out.push({
        ref,
        specPath,
        podSpec: podSpec as unknown as PodSpec,
        labels: stringLabels(template.metadata?.labels),
      });
    }
  }
  return out;
}

/** Regular, init and ephemeral containers: the restricted profile applies to all three. */
export function listContainers(w: Workload): NamedContainer[] {
  const out: NamedContainer[] = [];
  const groups: Array<[string, Container[] | undefined]> = [
    ['containers', w.podSpec.containers],
    ['initContainers', w.podSpec.initContainers],
    ['ephemeralContainers', w.podSpec.ephemeralContainers as Container[] | undefined],
  ];
  for (const [field, list] of groups) {
    (Array.isArray(list) ? list : []).forEach((container, i) => {
      out.push({ container, path: `${w.specPath}.${field}[${i}] (${String(container.name)})` });
    });
  }
  return out;
}

/** matchLabels selection; a selector with matchExpressions is reported by the caller, not guessed at. */
export function selectsLabels(selector: Record<string, unknown> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === String(v));
}
