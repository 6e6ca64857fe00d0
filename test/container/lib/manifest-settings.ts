// Turns the sidecar's settings in deploy/kubernetes and deploy/compose into `podman run` arguments, read from the
// manifests themselves so the containers the tests run are configured exactly as shipped. A setting this file does not
// know how to express is an error, never silently dropped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Container, PodSpec, Volume } from 'kubernetes-types/core/v1.js';
import { interpolateDefaults } from '../../deploy/lib/compose-policy.js';
import { findWorkloads, parseYamlDocs } from '../../deploy/lib/k8s-docs.js';
import { REPO_ROOT } from './paths.js';

export const SIDECAR = 'mtls-sidecar';

export interface ContainerSettings {
  /** podman run flags for the security context, mounts and limits. */
  flags: string[];
  /** Arguments after the image (the entrypoint is the image's). */
  args: string[];
  /** Environment for the proxy (compose `environment:`). */
  env: Record<string, string>;
}

function fail(where: string, what: string): never {
  throw new Error(
    `${where}: ${what} has no podman equivalent in test/container/lib/manifest-settings.ts; add it there`,
  );
}

export interface SecretMount {
  /** The directory the test fills with the Secret's files, mounted read-only at the volume's mountPath. */
  hostDir: string;
  /** The file mode Kubernetes gives the files (defaultMode) and the group that owns them (fsGroup). */
  mode: number;
  group: number | undefined;
}

function k8sSidecar(): { pod: PodSpec; container: Container } {
  const file = join(REPO_ROOT, 'deploy/kubernetes/deployment.yaml');
  const workload = findWorkloads(parseYamlDocs(readFileSync(file, 'utf8'), file))[0];
  const container = workload?.podSpec.containers.find((c) => c.name === SIDECAR);
  if (workload === undefined || container === undefined) throw new Error(`${file}: no ${SIDECAR} container`);
  return { pod: workload.podSpec, container };
}

/** The Secret volume's defaultMode and the pod's fsGroup, so the test can lay out its files as the kubelet would. */
export function k8sSecretLayout(): Omit<SecretMount, 'hostDir'> & { mountPath: string } {
  const { pod, container } = k8sSidecar();
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.secret)
      return {
        mountPath: mount.mountPath,
        mode: volume.secret.defaultMode ?? 0o644,
        group: pod.securityContext?.fsGroup,
      };
  }
  throw new Error('deploy/kubernetes: the sidecar mounts no Secret volume');
}

function k8sVolumeFlags(volume: Volume, mountPath: string, readOnly: boolean, secretDir: string): string[] {
  if (volume.secret) return ['--volume', `${secretDir}:${mountPath}:${readOnly ? 'ro' : 'rw'}`];
  if (volume.emptyDir) {
    const size = volume.emptyDir.sizeLimit
      ? `,size=${String(volume.emptyDir.sizeLimit).replace(/i$/, '').toLowerCase()}`
      : '';
    return ['--tmpfs', `${mountPath}:rw,mode=1777${size}`];
  }
  return fail(
    `volume ${volume.name}`,
    Object.keys(volume)
      .filter((k) => k !== 'name')
      .join(','),
  );
}

/** The Deployment's pod- and container-level security settings, volumes, limits and args. */
export function kubernetesSettings(secretDir: string): ContainerSettings {
  const { pod, container } = k8sSidecar();
  const flags: string[] = [];
  for (const key of ['hostPID', 'hostNetwork', 'hostIPC'] as const)
    if (pod[key] === true) flags.push(`--${key.slice(4).toLowerCase()}`, 'host');
  const podCtx = pod.securityContext ?? {};
  const ctx = { ...podCtx, ...container.securityContext };
  for (const key of Object.keys(ctx)) {
    if (
      ![
        'runAsNonRoot',
        'runAsUser',
        'runAsGroup',
        'fsGroup',
        'seccompProfile',
        'privileged',
        'allowPrivilegeEscalation',
        'readOnlyRootFilesystem',
        'capabilities',
      ].includes(key)
    )
      fail('securityContext', key);
  }
  if (ctx.runAsUser !== undefined) flags.push('--user', `${ctx.runAsUser}:${ctx.runAsGroup ?? ctx.runAsUser}`);
  if (podCtx.fsGroup !== undefined) flags.push('--group-add', String(podCtx.fsGroup));
  if (ctx.privileged === true) flags.push('--privileged');
  if (ctx.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  // Kubernetes adds no writable tmpfs of its own, so podman's /run, /tmp and /var/tmp are turned off.
  if (ctx.readOnlyRootFilesystem === true) flags.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of ctx.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of ctx.capabilities?.add ?? []) flags.push('--cap-add', cap);
  const seccomp = ctx.seccompProfile?.type;
  if (seccomp === 'Unconfined') flags.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp !== undefined && seccomp !== 'RuntimeDefault') fail('seccompProfile', seccomp);
  for (const mount of container.volumeMounts ?? []) {
    if (mount.subPath !== undefined) fail(`volumeMount ${mount.name}`, 'subPath');
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
    flags.push(...k8sVolumeFlags(volume, mount.mountPath, mount.readOnly === true, secretDir));
  }
  const memory = container.resources?.limits?.['memory'];
  if (memory !== undefined) flags.push('--memory', String(memory).replace(/i$/, '').toLowerCase());
  if (container.command !== undefined) fail('container', 'command (the image entrypoint is what is tested)');
  return { flags, args: container.args ?? [], env: {} };
}

type Dict = Record<string, unknown>;

/** The compose service's settings, with `${SIDECAR_CERTS}` pointed at `certsDir` as a user would set it. */
export function composeSettings(certsDir: string): ContainerSettings {
  const file = join(REPO_ROOT, 'deploy/compose/compose.yaml');
  const doc = interpolateDefaults(parse(readFileSync(file, 'utf8')), {
    SIDECAR_CERTS: certsDir,
    MTLS_SIDECAR_CERTS: certsDir,
  }) as Dict;
  const service = (doc['services'] as Dict)[SIDECAR] as Dict;
  const flags: string[] = [];
  const handled = new Set([
    'image',
    'build',
    'ports',
    'networks',
    'depends_on',
    'restart',
    'healthcheck',
    'environment',
  ]);
  for (const [key, value] of Object.entries(service)) {
    if (handled.has(key)) continue;
    if (key === 'user') flags.push('--user', String(value));
    else if (key === 'read_only' && value === true) flags.push('--read-only', '--read-only-tmpfs=false');
    else if (key === 'privileged' && value === true) flags.push('--privileged');
    else if (key === 'cap_drop' || key === 'cap_add')
      for (const cap of value as string[]) flags.push(`--${key.replace('_', '-')}`, cap);
    else if (key === 'security_opt')
      for (const opt of value as string[])
        flags.push('--security-opt', opt.replace(/^no-new-privileges:true$/, 'no-new-privileges'));
    else if (key === 'tmpfs') for (const t of value as string[]) flags.push('--tmpfs', t.replace(/:/, ':rw,'));
    else if (key === 'mem_limit') flags.push('--memory', String(value));
    else if (key === 'pids_limit') flags.push('--pids-limit', String(value));
    else if (key === 'pid' || key === 'ipc' || key === 'network_mode')
      flags.push(`--${key === 'network_mode' ? 'network' : key}`, String(value));
    else if (key === 'volumes') flags.push(...composeVolumeFlags(value as Dict[], file));
    else fail(`${file} services.${SIDECAR}`, key);
  }
  const env = Object.fromEntries(
    Object.entries((service['environment'] ?? {}) as Dict).map(([k, v]) => [k, String(v)]),
  );
  return { flags, args: [], env };
}

function composeVolumeFlags(volumes: Dict[], file: string): string[] {
  return volumes.flatMap((v) => {
    if (typeof v !== 'object' || v['type'] !== 'bind') return fail(`${file} volumes`, JSON.stringify(v));
    const source = String(v['source']);
    return [
      '--volume',
      `${source.startsWith('/') ? source : join(REPO_ROOT, 'deploy/compose', source)}:${String(v['target'])}:${v['read_only'] === true ? 'ro' : 'rw'}`,
    ];
  });
}

/** podman --env flags for an environment map. */
export function envFlags(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
}
