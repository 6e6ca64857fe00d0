// Reads the process's own security posture from /proc and the filesystem; the only I/O of src/posture.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import type { Upstream } from '../config/types.js';
import { decodeCapabilityMask } from './capabilities.js';
import { isRootReadOnly, parseMountinfo } from './mountinfo.js';
import { probeHostExposure, type HostExposureFacts } from './probe-host.js';

export interface PostureInputs {
  /** Private key files the proxy will load (paths as configured). */
  keyFiles: string[];
  /** DER of the server (leaf) certificate in use, compared with the shipped example certificates. */
  serverCertDer?: Buffer;
  /** SHA-256 of the shipped example certificate(s) DER, hex; colons and a `sha256:` prefix are ignored. */
  exampleCertSha256?: string | readonly string[];
  upstream?: Upstream;
}

export interface PostureFacts extends HostExposureFacts {
  uid: number;
  gid: number;
  capEff: string[];
  capBnd: string[];
  /** null when the kernel does not report it (or /proc/self/status could not be read). */
  noNewPrivs: boolean | null;
  /** 0 off, 1 strict, 2 filter; null when unknown. */
  seccompMode: number | null;
  /** Container-runtime sockets that exist and that this process may connect to. */
  runtimeSockets: string[];
  rootReadOnly: boolean | null;
  /** Path of a mounted Kubernetes service-account token, or null. */
  serviceAccountToken: string | null;
  looseKeyFiles: { file: string; mode: string }[];
  exampleCertInUse: boolean;
  /** Origin of a plain-HTTP upstream on a non-loopback address, or null. */
  plainHttpUpstream: string | null;
  unreadable: { what: string; error: string }[];
}

export interface ProbeOptions {
  /** Where /proc lives; fixtures in tests. Default '/proc'. */
  procRoot?: string;
  /** Prefix for the runtime-socket and token paths; fixtures in tests. Default '/'. */
  fsRoot?: string;
}

export const RUNTIME_SOCKET_PATHS: readonly string[] = [
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/run/containerd/containerd.sock',
  '/run/crio/crio.sock',
  '/run/podman/podman.sock',
];

export const SERVICE_ACCOUNT_TOKEN_PATHS: readonly string[] = [
  '/var/run/secrets/kubernetes.io/serviceaccount/token',
  '/run/secrets/kubernetes.io/serviceaccount/token',
];

type Unreadable = PostureFacts['unreadable'];

function describeError(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

function readText(path: string, unreadable: Unreadable): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    unreadable.push({ what: path, error: describeError(error) });
    return null;
  }
}

/** `Key:\tvalue` lines of /proc/self/status. */
function parseStatus(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

type StatusFacts = Pick<PostureFacts, 'uid' | 'gid' | 'capEff' | 'capBnd' | 'noNewPrivs' | 'seccompMode'>;

/** Uid/Gid lines hold real, effective, saved and filesystem ids; the effective one is what the kernel checks. */
function readEffectiveId(
  fields: Map<string, string>,
  key: string,
  fallback: number,
  source: string,
  unreadable: Unreadable,
): number {
  const id = Number(fields.get(key)?.split(/\s+/)[1]);
  if (Number.isInteger(id)) return id;
  unreadable.push({ what: `${source} ${key}`, error: 'field missing or malformed' });
  return fallback;
}

function readMask(fields: Map<string, string>, key: string, source: string, unreadable: Unreadable): string[] {
  const names = decodeCapabilityMask(fields.get(key) ?? '');
  if (names !== null) return names;
  unreadable.push({ what: `${source} ${key}`, error: 'field missing or malformed' });
  return [];
}

function readOptionalNumber(
  fields: Map<string, string>,
  key: string,
  source: string,
  unreadable: Unreadable,
): number | null {
  const raw = fields.get(key);
  if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
  unreadable.push({ what: `${source} ${key}`, error: raw === undefined ? 'field missing' : 'field malformed' });
  return null;
}

function probeStatus(procRoot: string, unreadable: Unreadable): StatusFacts {
  const source = join(procRoot, 'self/status');
  // Without /proc the process's own ids are the best fallback; capabilities stay unknown (reported).
  const fallbackUid = process.geteuid?.() ?? -1;
  const fallbackGid = process.getegid?.() ?? -1;
  const text = readText(source, unreadable);
  if (text === null) {
    return { uid: fallbackUid, gid: fallbackGid, capEff: [], capBnd: [], noNewPrivs: null, seccompMode: null };
  }
  const fields = parseStatus(text);
  const noNewPrivs = readOptionalNumber(fields, 'NoNewPrivs', source, unreadable);
  return {
    uid: readEffectiveId(fields, 'Uid', fallbackUid, source, unreadable),
    gid: readEffectiveId(fields, 'Gid', fallbackGid, source, unreadable),
    capEff: readMask(fields, 'CapEff', source, unreadable),
    capBnd: readMask(fields, 'CapBnd', source, unreadable),
    noNewPrivs: noNewPrivs === null ? null : noNewPrivs !== 0,
    seccompMode: readOptionalNumber(fields, 'Seccomp', source, unreadable),
  };
}

/**
 * A socket counts when it exists and this process may write to it (connect(2) needs write
 * permission). /var/run is usually a link to /run, so one socket is listed once.
 */
function probeRuntimeSockets(fsRoot: string, unreadable: Unreadable): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const path of RUNTIME_SOCKET_PATHS) {
    const full = join(fsRoot, path);
    try {
      const stat = statSync(full);
      if (!stat.isSocket()) continue;
      accessSync(full, constants.W_OK);
      const key = `${stat.dev}:${stat.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') {
        unreadable.push({ what: full, error: describeError(error) });
      }
    }
  }
  return found;
}

function probeServiceAccountToken(fsRoot: string, unreadable: Unreadable): string | null {
  for (const path of SERVICE_ACCOUNT_TOKEN_PATHS) {
    const full = join(fsRoot, path);
    try {
      statSync(full);
      return path;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A token we cannot stat (EACCES on the directory) is still mounted as far as we can tell.
      if (code === 'EACCES') return path;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') unreadable.push({ what: full, error: describeError(error) });
    }
  }
  return null;
}

/** Kubernetes mounts secrets as symlinks into `..data`; stat follows them to the file that matters. */
function probeKeyFiles(keyFiles: readonly string[], unreadable: Unreadable): PostureFacts['looseKeyFiles'] {
  const loose: PostureFacts['looseKeyFiles'] = [];
  for (const file of keyFiles) {
    try {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o066) !== 0) loose.push({ file, mode: `0${mode.toString(8).padStart(3, '0')}` });
    } catch (error) {
      unreadable.push({ what: file, error: describeError(error) });
    }
  }
  return loose;
}

function normalizeFingerprint(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '')
    .replace(/:/g, '');
}

function isExampleCert(der: Buffer | undefined, examples: string | readonly string[] | undefined): boolean {
  if (der === undefined || examples === undefined) return false;
  const list = typeof examples === 'string' ? [examples] : examples;
  const actual = createHash('sha256').update(der).digest('hex');
  return list.some((example) => normalizeFingerprint(example) === actual);
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped 127/8, which URL parsing writes in hex (`::ffff:7f00:1`).
LOOPBACK.addSubnet('::ffff:7f00:0', 104, 'ipv6');

/** Loopback by address or by the reserved name `localhost` (RFC 6761); other names are not resolved. */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  const family = isIP(bare);
  if (family === 0) return false;
  return LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

function findPlainHttpUpstream(upstream: Upstream | undefined): string | null {
  if (upstream === undefined || upstream.kind !== 'http') return null;
  return isLoopbackHost(upstream.host) ? null : upstream.origin;
}

/** Gathers the posture facts; never throws for a file it cannot read, it lists it in `unreadable`. */
export function probePosture(inputs: PostureInputs, opts: ProbeOptions = {}): PostureFacts {
  const procRoot = opts.procRoot ?? '/proc';
  const fsRoot = opts.fsRoot ?? '/';
  const unreadable: Unreadable = [];
  const status = probeStatus(procRoot, unreadable);
  const mountinfoPath = join(procRoot, 'self/mountinfo');
  const mountinfo = readText(mountinfoPath, unreadable);
  const rootReadOnly = mountinfo === null ? null : isRootReadOnly(mountinfo);
  if (mountinfo !== null && rootReadOnly === null) unreadable.push({ what: mountinfoPath, error: 'no mount at /' });
  const mounts = mountinfo === null ? [] : parseMountinfo(mountinfo);
  return {
    ...status,
    ...probeHostExposure(mounts, { procRoot, fsRoot }, unreadable),
    runtimeSockets: probeRuntimeSockets(fsRoot, unreadable),
    rootReadOnly,
    serviceAccountToken: probeServiceAccountToken(fsRoot, unreadable),
    looseKeyFiles: probeKeyFiles(inputs.keyFiles, unreadable),
    exampleCertInUse: isExampleCert(inputs.serverCertDer, inputs.exampleCertSha256),
    plainHttpUpstream: findPlainHttpUpstream(inputs.upstream),
    unreadable,
  };
}
