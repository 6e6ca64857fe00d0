// Checks a Dockerfile, parsed with dockerfile-ast, for the image rules: pinned bases, no remote ADD,
// a numeric non-root final USER, an exec-form ENTRYPOINT and exactly the expected EXPOSE ports.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import type { Finding } from './k8s-docs.js';

export interface DockerfileRules {
  /** Ports the final stage must EXPOSE, and no others. */
  expose: number[];
  /** Build and runtime in separate stages. */
  multiStage: boolean;
  /** No RUN in the final stage, so the runtime base needs no shell. */
  noRunInFinalStage: boolean;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Substitutes build arguments the way `docker build` does when no --build-arg is given. */
function expandArgs(text: string, args: Map<string, string | null>): { value: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const value = text.replace(
    VARIABLE,
    (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const v = args.get(name);
      if (v !== undefined && v !== null && v !== '') return v;
      if (fallback !== undefined) return fallback;
      unresolved.push(name);
      return '';
    },
  );
  return { value, unresolved };
}

/** `registry:5000/name:tag@sha256:…` → does it carry a usable tag or a digest? */
function describeReference(ref: string): { tag?: string; digest?: string } {
  const [nameAndTag = '', digest] = ref.split('@');
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.indexOf(':', lastSlash + 1);
  return { tag: colon >= 0 ? nameAndTag.slice(colon + 1) : undefined, digest };
}

function argumentValues(ins: Instruction): string[] {
  return ins.getArguments().map((a) => a.getValue());
}

function isJsonForm(ins: Instruction): boolean {
  return (ins.getRawArgumentsContent() ?? '').trim().startsWith('[');
}

/** Every finding for the Dockerfile text; empty when it follows the rules. */
export function checkDockerfile(text: string, rules: DockerfileRules): Finding[] {
  const findings: Finding[] = [];
  const df = DockerfileParser.parse(text);
  const report = (rule: string, ins: Instruction | null, message: string): void => {
    const line = ins ? ins.getRange().start.line + 1 : 0;
    findings.push({ rule, where: `Dockerfile:${line}`, message });
  };
  const args = new Map<string, string | null>();
  for (const arg of df.getInitialARGs()) {
    const p = arg.getProperty();
    if (p) args.set(p.getName(), p.getValue());
  }
  const froms = df.getFROMs();
  if (froms.length === 0) return [{ rule: 'from-tag', where: 'Dockerfile', message: 'no FROM instruction' }];
  if (rules.multiStage && froms.length < 2)
    report('multi-stage', froms[0] ?? null, 'build in one stage and copy only the result into the runtime stage');
  const stages = new Set<string>();
  for (const from of froms) {
    const image = argumentValues(from).filter((a) => !a.startsWith('--'))[0] ?? '';
    const { value, unresolved } = expandArgs(image, args);
    if (unresolved.length > 0) {
      report(
        'from-tag',
        from,
        `ARG ${unresolved.join(', ')} has no default, so the base image is whatever the builder passes`,
      );
    } else if (!stages.has(value.toLowerCase()) && value !== 'scratch') {
      const { tag, digest } = describeReference(value);
      if (digest === undefined && (tag === undefined || tag === 'latest')) {
        report('from-tag', from, `base image ${value} needs an explicit tag other than latest, or a digest`);
      }
    }
    const stage = from.getBuildStage();
    if (stage) stages.add(stage.toLowerCase());
  }
  const all = df.getInstructions();
  const lastFrom = froms[froms.length - 1] as Instruction;
  const finalStage = all.filter((i) => i.getRange().start.line > lastFrom.getRange().start.line);
  for (const ins of all) {
    if (
      ins.getKeyword() === 'ADD' &&
      argumentValues(ins).some((a) => /^(https?|ftp):\/\/|^git@|\.git(#.*)?$/i.test(a))
    ) {
      report('add-url', ins, 'ADD of a URL fetches unpinned remote content; download and verify it in a build stage');
    }
  }
  const users = finalStage.filter((i) => i.getKeyword() === 'USER');
  const user = users[users.length - 1];
  const userValue = user ? argumentValues(user).join(' ') : '';
  if (!user) {
    report('final-user', lastFrom, 'the final stage has no USER, so the container runs as root');
  } else if (!/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(userValue)) {
    report('final-user', user, `USER ${userValue} must be a numeric non-zero uid[:gid], so runAsNonRoot can verify it`);
  }
  const entrypoints = finalStage.filter((i) => i.getKeyword() === 'ENTRYPOINT');
  const entrypoint = entrypoints[entrypoints.length - 1];
  if (!entrypoint || !isJsonForm(entrypoint)) {
    report(
      'entrypoint-exec-form',
      entrypoint ?? lastFrom,
      'use an exec-form ENTRYPOINT ["/path/to/binary", …]: no shell, signals reach the process',
    );
  }
  for (const cmd of finalStage.filter((i) => i.getKeyword() === 'CMD')) {
    if (!isJsonForm(cmd))
      report('entrypoint-exec-form', cmd, 'shell-form CMD needs /bin/sh at run time; use the JSON form');
  }
  if (rules.noRunInFinalStage) {
    for (const run of finalStage.filter((i) => i.getKeyword() === 'RUN')) {
      report(
        'final-run',
        run,
        'RUN in the final stage needs a shell in the runtime base; do the work in a build stage',
      );
    }
  }
  const exposed = finalStage
    .filter((i) => i.getKeyword() === 'EXPOSE')
    .flatMap(argumentValues)
    .map((p) => Number.parseInt(p.replace(/\/(tcp|udp)$/, ''), 10));
  const want = [...rules.expose].sort((a, b) => a - b);
  const got = [...new Set(exposed)].sort((a, b) => a - b);
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    report(
      'expose',
      finalStage.find((i) => i.getKeyword() === 'EXPOSE') ?? lastFrom,
      `EXPOSE ${want.join(' ') || '(nothing)'} expected, found ${got.join(' ') || 'nothing'}`,
    );
  }
  return findings;
}
