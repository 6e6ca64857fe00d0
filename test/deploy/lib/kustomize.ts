// Checks a kustomization the way `kustomize build` would read it, and runs the real tool when one is installed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocs, readYamlDocs, type K8sDoc } from './k8s-docs.js';

export interface SourcedDoc {
  source: string;
  doc: K8sDoc;
}

export interface KustomizeResult {
  /** Every document reachable from the kustomization (resources, recursively), with its file. */
  docs: SourcedDoc[];
  problems: string[];
}

const YAML_FILE = /\.ya?ml$/;

function listResources(kustomization: K8sDoc, file: string, problems: string[]): string[] {
  const resources = kustomization.resources;
  if (resources === undefined) return [];
  if (!Array.isArray(resources) || !resources.every((r): r is string => typeof r === 'string')) {
    problems.push(`${file}: resources must be a list of paths`);
    return [];
  }
  return resources;
}

/**
 * Reads `dir/kustomization.yaml`: every listed resource must exist and parse (a directory must be a
 * kustomization itself), and every YAML file beside it must be listed, so nothing ships by accident
 * or is silently left out. Subdirectories that are not listed must be kustomizations of their own.
 */
export function readKustomization(dir: string): KustomizeResult {
  const problems: string[] = [];
  const docs: SourcedDoc[] = [];
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) return { docs, problems: [`${dir}: no kustomization.yaml`] };
  let kustomization: K8sDoc | undefined;
  try {
    kustomization = readYamlDocs(file)[0];
  } catch (err) {
    return { docs, problems: [(err as Error).message] };
  }
  if (!kustomization) return { docs, problems: [`${file}: empty`] };
  docs.push({ source: file, doc: kustomization });
  const listed = listResources(kustomization, file, problems);
  for (const rel of listed) {
    if (/^[a-z]+:\/\//i.test(rel) || rel.startsWith('/')) {
      problems.push(`${file}: resource ${rel} must be a relative path inside the repository`);
      continue;
    }
    const path = join(dir, rel);
    if (!existsSync(path)) {
      problems.push(`${file}: resource ${rel} does not exist`);
    } else if (statSync(path).isDirectory()) {
      const nested = readKustomization(path);
      docs.push(...nested.docs.filter((d) => d.doc.kind !== 'Kustomization'));
      problems.push(...nested.problems);
    } else {
      try {
        const parsed = readYamlDocs(path);
        if (parsed.length === 0) problems.push(`${path}: no documents`);
        docs.push(...parsed.map((doc) => ({ source: path, doc })));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  const listedSet = new Set(listed.map((r) => r.replace(/^\.\//, '').replace(/\/$/, '')));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (
      entry.isFile() &&
      YAML_FILE.test(entry.name) &&
      entry.name !== 'kustomization.yaml' &&
      !listedSet.has(entry.name)
    ) {
      problems.push(`${join(dir, entry.name)} is not listed in ${file} resources`);
    }
    if (entry.isDirectory() && !listedSet.has(entry.name)) {
      const nested = join(dir, entry.name);
      if (!existsSync(join(nested, 'kustomization.yaml'))) {
        problems.push(`${nested} is neither listed in ${file} nor a kustomization of its own`);
      }
    }
  }
  return { docs, problems };
}

/** The command that builds a kustomization here, if any: `kustomize build` or `kubectl kustomize`. */
export function findKustomizeBuilder(): string[] | null {
  // `kubectl version` without --client would try to reach a cluster.
  const candidates: Array<[string[], string[]]> = [
    [['kustomize', 'build'], ['version']],
    [
      ['kubectl', 'kustomize'],
      ['version', '--client'],
    ],
  ];
  for (const [build, probe] of candidates) {
    try {
      execFileSync(build[0] as string, probe, { stdio: 'ignore', timeout: 20_000 });
      return build;
    } catch {
      // not installed here; try the next one
    }
  }
  return null;
}

/** Runs the real kustomize and returns the documents it emits. */
export function buildKustomization(builder: string[], dir: string): K8sDoc[] {
  const [cmd, ...args] = builder;
  const out = execFileSync(cmd as string, [...args, dir], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseYamlDocs(out, `${builder.join(' ')} ${dir}`);
}
