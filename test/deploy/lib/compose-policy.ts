// Validates a compose file against our Compose-schema subset and checks its containment policy.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import type { Finding } from './k8s-docs.js';

const require = createRequire(import.meta.url);
const SCHEMA = require('./compose-subset.schema.json') as object;

export const TLS_PORT = 8443;
const RUNTIME_SOCKET = /(^|\/)(docker|containerd|crio|podman)\.sock$/;
// Mounting one of these directories hands over a runtime socket (or the host) as surely as the socket itself.
const DANGEROUS_HOST_DIRS = new Set([
  '/',
  '/run',
  '/var/run',
  '/var/run/docker',
  '/run/containerd',
  '/run/crio',
  '/run/podman',
  '/var/lib/docker',
  '/proc',
  '/sys',
  '/dev',
  '/etc',
  '/root',
]);
const UNCONFINED = /^(seccomp|apparmor)[=:]unconfined$|^label[=:]disable$/;

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

/** Compose variable interpolation with no variables set: `${X:-d}`/`${X-d}` give d, `$$` is a literal `$`. */
export function interpolateDefaults(value: unknown, env: Record<string, string> = {}): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (
        whole,
        braced: string | undefined,
        op: string | undefined,
        arg: string | undefined,
        bare: string | undefined,
      ) => {
        if (whole === '$$') return '$';
        const name = braced ?? bare ?? '';
        const set = env[name];
        if (op === ':-') return set !== undefined && set !== '' ? set : (arg ?? '');
        if (op === '-') return set ?? arg ?? '';
        if ((op === ':?' && (set === undefined || set === '')) || (op === '?' && set === undefined)) {
          throw new Error(`variable ${name} is required: ${arg ?? ''}`);
        }
        return set ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDefaults(v, env));
  if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDefaults(v, env)]));
  return value;
}

export function readCompose(file: string): Dict {
  return parseCompose(readFileSync(file, 'utf8'));
}

export function parseCompose(text: string): Dict {
  const doc: unknown = interpolateDefaults(parse(text));
  if (!isDict(doc)) throw new Error('a compose file must be a mapping');
  return doc;
}

/** Schema problems as `path: message`; empty when the file fits the subset schema. */
export function validateComposeSchema(doc: Dict): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(SCHEMA);
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${
        e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''
      }`,
  );
}

interface PortSpec {
  hostIp?: string;
  target?: string;
}

/** Short syntax `[HOST_IP:][HOST:]CONTAINER[/PROTO]` (HOST_IP may be `[v6]`) or the long mapping. */
function parsePort(p: unknown): PortSpec {
  if (isDict(p)) return { hostIp: p.host_ip === undefined ? undefined : String(p.host_ip), target: String(p.target) };
  const text = String(p).replace(/\/(tcp|udp|sctp)$/, '');
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
  const parts = v6 ? [v6[1] as string, ...(v6[2] as string).split(':')] : text.split(':');
  return { hostIp: parts.length === 3 ? parts[0] : undefined, target: parts[parts.length - 1] };
}

interface Mount {
  type: string;
  source: string;
  readOnly: boolean;
}

function parseMount(v: unknown): Mount {
  if (isDict(v)) {
    return { type: String(v.type), source: String(v.source ?? ''), readOnly: truthy(v.read_only) };
  }
  const [source = '', , mode = ''] = String(v).split(':');
  const isPath = source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
  return { type: isPath ? 'bind' : 'volume', source, readOnly: mode.split(',').includes('ro') };
}

function listOf(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function serviceNetworks(svc: Dict): string[] {
  if (Array.isArray(svc.networks)) return svc.networks.map(String);
  if (isDict(svc.networks)) return Object.keys(svc.networks);
  return ['default'];
}

/** A proxy is a service configured with an upstream: the one place identity headers are made. */
function isProxy(svc: Dict): boolean {
  const env = svc.environment;
  const hasEnv = isDict(env)
    ? 'MTLS_SIDECAR_UPSTREAM' in env
    : listOf(env).some((e) => e.startsWith('MTLS_SIDECAR_UPSTREAM='));
  return hasEnv || listOf(svc.command).includes('--upstream');
}

function checkContainment(svc: Dict, report: (rule: string, message: string) => void): void {
  if (truthy(svc.privileged)) report('privileged', 'privileged: true hands the container the host');
  if (!listOf(svc.cap_drop).includes('ALL')) report('cap-drop-all', 'set cap_drop: [ALL]');
  if (listOf(svc.cap_add).length > 0) report('cap-add', 'add no capabilities back');
  if (!truthy(svc.read_only)) report('read-only', 'set read_only: true and use tmpfs where writes are needed');
  const opts = listOf(svc.security_opt);
  if (!opts.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)))
    report('no-new-privileges', 'add security_opt: [no-new-privileges:true]');
  if (opts.some((o) => UNCONFINED.test(o)))
    report('unconfined', 'do not turn off seccomp, AppArmor or SELinux labelling');
  if (!/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(String(svc.user ?? '')))
    report('user', 'set a numeric non-root user, e.g. user: "10001:10001"');
  for (const key of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode']) {
    if (svc[key] === 'host') report('host-namespaces', `${key}: host shares a namespace with the host`);
  }
  if (listOf(svc.devices).length > 0) report('devices', 'pass no host devices');
  if (svc.use_api_socket === true) report('runtime-socket', 'use_api_socket mounts the container runtime socket');
  for (const m of (Array.isArray(svc.volumes) ? svc.volumes : []).map(parseMount)) {
    if (RUNTIME_SOCKET.test(m.source) || DANGEROUS_HOST_DIRS.has(m.source.replace(/\/+$/, '') || '/')) {
      report(
        'runtime-socket',
        `never mount ${m.source}: a runtime socket or host directory is a way out of the container`,
      );
    }
    if (m.type === 'bind' && !m.readOnly) report('bind-read-only', `mount ${m.source} read-only`);
  }
}

/** Every policy finding for the compose file; empty when the stack is contained as the README promises. */
export function checkComposePolicy(doc: Dict): Finding[] {
  const findings: Finding[] = [];
  const services = isDict(doc.services) ? doc.services : {};
  const networks = isDict(doc.networks) ? doc.networks : {};
  const proxies = Object.keys(services).filter((name) => isDict(services[name]) && isProxy(services[name] as Dict));
  if (proxies.length === 0)
    findings.push({ rule: 'proxy-missing', where: 'services', message: 'no service sets MTLS_SIDECAR_UPSTREAM' });
  for (const [name, value] of Object.entries(services)) {
    const svc = isDict(value) ? value : {};
    const report = (rule: string, message: string): void => {
      findings.push({ rule, where: `services.${name}`, message });
    };
    checkContainment(svc, report);
    const ports = Array.isArray(svc.ports) ? svc.ports.map(parsePort) : [];
    if (proxies.includes(name)) {
      for (const p of ports) {
        if (p.target !== String(TLS_PORT))
          report('proxy-ports', `publish only ${TLS_PORT}; found container port ${String(p.target)}`);
        if (p.hostIp === undefined)
          report(
            'proxy-ports',
            `bind the published port to a chosen address: "\${SIDECAR_BIND:-127.0.0.1}:${TLS_PORT}:${TLS_PORT}"`,
          );
      }
      continue;
    }
    if (ports.length > 0) report('upstream-ports', 'the upstream must publish no port: callers go through the sidecar');
    if (svc.network_mode !== undefined && svc.network_mode !== 'none') {
      report('upstream-network', 'the upstream must join only internal networks, not use network_mode');
    }
    for (const net of serviceNetworks(svc)) {
      const def = networks[net];
      if (!isDict(def) || !truthy(def.internal)) {
        report(
          'upstream-network',
          `network ${net} is not internal: true, so the upstream is reachable without the sidecar`,
        );
      }
    }
  }
  return findings;
}
