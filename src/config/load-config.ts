// Turn flags, env and config file into the one validated Config, reporting every problem at once (exit 78).
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { AllowFlags, Config, ConfigInput, HostPort, Upstream } from './types.js';
import { FLAGS, envNameOf, type FlagSpec } from './flags.js';
import { parseFlagValue, showValue } from './schema.js';
import { describeReadError, mergeSources, type SourcedValue } from './sources.js';

const ALLOW_RULES = [
  'cn',
  'ou',
  'o',
  'dns',
  'uri',
  'email',
  'serial',
  'fingerprint',
  'subject',
] as const satisfies readonly (keyof AllowFlags)[];

/**
 * Validate all sources in one pass; throws ConfigError listing every problem, each naming its flag, variable or file
 * key.
 */
export function loadConfig(input: ConfigInput): Config {
  const merged = mergeSources(input);
  const problems = [...merged.problems];
  const typed = new Map<string, unknown>();
  const failed = new Set<string>();

  for (const flag of FLAGS) {
    const sourced = merged.values.get(flag.name);
    if (!sourced) continue;
    const result = parseFlagValue(sourced.value, flag);
    if (result.ok) {
      typed.set(
        flag.name,
        flag.format === 'file' && flag.name !== 'config' ? resolvePaths(result.value, sourced) : result.value,
      );
    } else {
      failed.add(flag.name);
      problems.push(`${sourced.origin}: ${result.message}`);
    }
  }

  problems.push(...checkFiles(typed, merged.values));
  problems.push(...checkUpstreamCa(typed, merged.values));
  // With the config file unreadable its values are unknown, so "missing" would be misleading noise.
  if (!merged.configFileFailed) {
    problems.push(...checkRequired(typed, failed));
    problems.push(...checkAllowlist(typed, failed));
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return buildConfig(typed);
}

function resolvePaths(value: unknown, sourced: SourcedValue): unknown {
  const base = sourced.baseDir ?? process.cwd();
  if (typeof value === 'string') return resolve(base, value);
  if (Array.isArray(value)) return value.map((v: string) => resolve(base, v));
  return value;
}

function whereToSet(flag: FlagSpec): string {
  return `set ${flag.example}, ${envNameOf(flag.name)}, or "${flag.name}:" in the config file`;
}

function checkRequired(typed: Map<string, unknown>, failed: Set<string>): string[] {
  const problems: string[] = [];
  for (const flag of FLAGS) {
    if (!flag.required || failed.has(flag.name)) continue;
    const value = typed.get(flag.name);
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
      problems.push(`--${flag.name} is required (${flag.help}): ${whereToSet(flag)}`);
    }
  }
  return problems;
}

/** Every file the proxy will read must exist, be a regular file and be readable now, not at the first reload. */
function checkFiles(typed: Map<string, unknown>, sources: Map<string, SourcedValue>): string[] {
  const problems: string[] = [];
  for (const flag of FLAGS) {
    if (flag.format !== 'file' || flag.name === 'config') continue; // sources.ts reports the config file itself
    const value = typed.get(flag.name);
    const paths = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
    const origin = sources.get(flag.name)?.origin ?? `--${flag.name}`;
    for (const path of paths) {
      const problem = checkReadableFile(path);
      if (problem) problems.push(`${origin}: ${showValue(path)}: ${problem}`);
    }
  }
  return problems;
}

export function checkReadableFile(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'is a directory, not a file; give the path of the file inside it';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return describeReadError(err);
  }
}

function checkUpstreamCa(typed: Map<string, unknown>, sources: Map<string, SourcedValue>): string[] {
  const upstream = typed.get('upstream') as Upstream | undefined;
  if (!typed.has('upstream-ca') || !upstream || upstream.kind === 'https') return [];
  const origin = sources.get('upstream-ca')?.origin ?? '--upstream-ca';
  return [
    `${origin}: only applies to an https:// upstream, but --upstream is ${upstream.kind === 'unix' ? 'a unix socket' : 'plain http://'}; remove --upstream-ca or use an https:// upstream`,
  ];
}

/** Fail closed: an empty allowlist must never be read as "everyone". */
function checkAllowlist(typed: Map<string, unknown>, failed: Set<string>): string[] {
  const relevant = [...ALLOW_RULES.map((r) => `allow-${r}`), 'policy', 'allow-any-verified'];
  if (relevant.some((n) => failed.has(n))) return []; // already reported; the operator meant to set something
  const anyRule = ALLOW_RULES.some((r) => ((typed.get(`allow-${r}`) as string[] | undefined) ?? []).length > 0);
  if (anyRule || typed.has('policy') || typed.get('allow-any-verified') === true) return [];
  const flags = ALLOW_RULES.map((r) => `--allow-${r}`).join(', ');
  return [
    'no allow rule is configured, so no caller could ever be admitted (an empty allowlist never means "everyone"): ' +
      `add at least one of ${flags} (env MTLS_SIDECAR_ALLOW_*, or allow-* keys in the config file), ` +
      'give a per-route --policy file, or admit every verified certificate explicitly with --allow-any-verified',
  ];
}

function buildConfig(typed: Map<string, unknown>): Config {
  const get = <T>(name: string): T => typed.get(name) as T;
  // Object.fromEntries loses the keys: ALLOW_RULES lists exactly the AllowFlags keys, one entry each.
  const allow = Object.fromEntries(
    ALLOW_RULES.map((r) => [r, get<string[] | undefined>(`allow-${r}`) ?? []]),
  ) as unknown as AllowFlags;
  const upstreamCa = get<string | undefined>('upstream-ca');
  const policy = get<string | undefined>('policy');
  return {
    listen: get<HostPort>('listen'),
    upstream: get<Upstream>('upstream'),
    ...(upstreamCa !== undefined ? { upstreamCa } : {}),
    upstreamProtocol: get<Config['upstreamProtocol']>('upstream-protocol'),
    cert: get<string>('cert'),
    key: get<string>('key'),
    clientCa: get<string[]>('client-ca'),
    crl: get<string[] | undefined>('crl') ?? [],
    allow,
    allowAnyVerified: get<boolean>('allow-any-verified'),
    ...(policy !== undefined ? { policy } : {}),
    metricsListen: get<HostPort | null>('metrics-listen'),
    minTlsVersion: get<Config['minTlsVersion']>('min-tls-version'),
    forwardCert: get<boolean>('forward-cert'),
    stripHeaders: new Set(get<string[] | undefined>('strip-header') ?? []),
    upstreamTimeoutMs: get<number>('upstream-timeout'),
    handshakeTimeoutMs: get<number>('handshake-timeout'),
    headersTimeoutMs: get<number>('headers-timeout'),
    idleTimeoutMs: get<number>('idle-timeout'),
    requestTimeoutMs: get<number>('request-timeout'),
    reloadIntervalMs: get<number>('reload-interval'),
    shutdownGraceMs: get<number>('shutdown-grace'),
    workers: get<number>('workers'),
    limits: {
      maxConnections: get<number>('max-connections'),
      maxHandshakes: get<number>('max-handshakes'),
      maxConcurrentStreams: get<number>('max-concurrent-streams'),
      upstreamMaxConnections: get<number>('upstream-max-connections'),
      upstreamStreamsPerConnection: get<number>('upstream-streams-per-connection'),
    },
    allowInsecurePosture: get<boolean>('allow-insecure-posture'),
    logLevel: get<Config['logLevel']>('log-level'),
  };
}
