// Read flags, MTLS_SIDECAR_* environment variables and the config file, and merge them by precedence, keeping where
// each value came from.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { describePermissionDenied } from './blocking-path.js';
import { parseYamlDocument } from './yaml.js';
import type { ConfigInput, RawOptions } from './types.js';
import { ENV_PREFIX, FLAGS, envNameOf, findFlag, isNonFlagEnvName, type FlagSpec } from './flags.js';

/** A value together with the place an operator would look to change it. */
export interface SourcedValue {
  value: unknown;
  /** `--client-ca`, `MTLS_SIDECAR_CLIENT_CA`, `client-ca in /etc/x.yaml`, `--listen (default)`. */
  origin: string;
  /** Directory relative file paths in this value are resolved against (the config file's directory). */
  baseDir?: string;
}

export interface MergedOptions {
  /** Keyed by flag name; only known flags with a value from some source. */
  values: Map<string, SourcedValue>;
  problems: string[];
  /** Absolute path of the config file that was read, if any. */
  configFile?: string;
  /** True when a config file was named but could not be read or parsed, so its values are unknown. */
  configFileFailed: boolean;
}

interface SourceRead {
  options: RawOptions;
  problems: string[];
  /** False when the whole source could not be read (missing file, bad syntax). */
  readable?: boolean;
}

/**
 * Collect every `MTLS_SIDECAR_*` variable; list values are split on the flag's separator (`\,` keeps a literal comma).
 */
export function readEnvOptions(env: Record<string, string | undefined>): SourceRead {
  const options: RawOptions = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || isNonFlagEnvName(key) || raw === undefined) continue;
    const flag = FLAGS.find((f) => envNameOf(f.name) === key);
    if (!flag) {
      problems.push(
        `unknown environment variable ${key}: no such option; remove it or correct the name${suggest(
          key,
          FLAGS.map((f) => envNameOf(f.name)),
        )}`,
      );
      continue;
    }
    // Kubernetes and compose often set a variable to '' to mean "unset".
    if (raw.trim() === '') continue;
    options[flag.name] = flag.kind === 'list' ? splitList(raw, flag.envSeparator ?? ',') : raw;
  }
  return { options, problems };
}

/** Split on unescaped separators, trimming items and dropping empty ones. */
export function splitList(raw: string, separator: string): string[] {
  const items: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\' && raw[i + 1] === separator) {
      current += separator;
      i++;
    } else if (ch === separator) {
      items.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  items.push(current);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** Read a YAML or JSON config file into options keyed by flag name; unknown keys are problems. */
export function readConfigFile(file: string, origin = 'config file'): SourceRead {
  const label = `${origin} ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { options: {}, problems: [`${label}: ${describeReadError(err)}`], readable: false };
  }
  const parsed = parseConfigText(text, file);
  if (!parsed.ok) {
    const hint =
      parsed.format === 'YAML' ? ` (quote values that start with [, {, * or &, e.g. listen: "[::]:8443")` : '';
    return {
      options: {},
      problems: [`${label}: not valid ${parsed.format} (${parsed.error.replace(/:$/, '')}); fix the syntax${hint}`],
      readable: false,
    };
  }
  const data = parsed.data;
  if (data === null || data === undefined) return { options: {}, problems: [] };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return {
      options: {},
      readable: false,
      problems: [
        `${label}: the top level must be a mapping of option names to values (e.g. "upstream: http://127.0.0.1:8080")`,
      ],
    };
  }
  const options: RawOptions = {};
  const problems: string[] = [];
  const fileKeys = FLAGS.filter((f) => f.inFile !== false).map((f) => f.name);
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const flag = findFlag(key);
    if (!flag || flag.inFile === false) {
      const why = flag ? 'a config file cannot name another config file' : 'no such option';
      problems.push(
        `unknown key "${key}" in ${file}: ${why}; remove it or correct the name${suggest(key.replace(/^-+/, ''), fileKeys)}`,
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    options[flag.name] = value;
  }
  return { options, problems };
}

/** A `.json` file is held to strict JSON (YAML would quietly accept a trailing comma); anything else is YAML 1.2. */
function parseConfigText(
  text: string,
  file: string,
): { ok: true; data: unknown } | { ok: false; format: string; error: string } {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return { ok: true, data: JSON.parse(text) as unknown };
    } catch (err) {
      return { ok: false, format: 'JSON', error: err instanceof Error ? err.message : String(err) };
    }
  }
  const doc = parseYamlDocument(text);
  const first = doc.errors[0];
  if (first) return { ok: false, format: 'YAML', error: first.message.split('\n')[0] ?? 'parse error' };
  return { ok: true, data: doc.toJS() as unknown };
}

/** Merge flags > env > config file > fallbacks > defaults into one map of sourced values. */
export function mergeSources(input: ConfigInput): MergedOptions {
  const problems: string[] = [];
  const flags = keepKnown(input.flags, problems, (k) => `unknown option --${k}`);
  const fallbacks = keepKnown(
    input.fallbacks ?? {},
    problems,
    (k) => `unknown fallback option "${k}" (a bug in the command supplying it)`,
  );
  const env = readEnvOptions(input.env);
  problems.push(...env.problems);

  const configSource = pickConfigPath(flags, env.options, fallbacks);
  let fileOptions: RawOptions = {};
  let configFile: string | undefined;
  let configFileFailed = false;
  if (configSource) {
    configFile = resolve(configSource.path);
    const read = readConfigFile(configFile, configSource.origin);
    fileOptions = read.options;
    problems.push(...read.problems);
    configFileFailed = read.readable === false;
  }

  const values = new Map<string, SourcedValue>();
  for (const flag of FLAGS) {
    const sourced = pickValue(flag, flags, env.options, fileOptions, fallbacks, configFile);
    if (sourced) values.set(flag.name, sourced);
  }
  return { values, problems, configFileFailed, ...(configFile ? { configFile } : {}) };
}

function pickValue(
  flag: FlagSpec,
  flags: RawOptions,
  env: RawOptions,
  file: RawOptions,
  fallbacks: RawOptions,
  configFile: string | undefined,
): SourcedValue | undefined {
  const n = flag.name;
  if (flags[n] !== undefined) return { value: flags[n], origin: `--${n}` };
  if (env[n] !== undefined) return { value: env[n], origin: envNameOf(n) };
  if (file[n] !== undefined && configFile)
    return { value: file[n], origin: `${n} in ${configFile}`, baseDir: dirname(configFile) };
  if (fallbacks[n] !== undefined) return { value: fallbacks[n], origin: `--${n} (command default)` };
  if (flag.default !== undefined) return { value: flag.default, origin: `--${n} (default)` };
  return undefined;
}

function pickConfigPath(
  flags: RawOptions,
  env: RawOptions,
  fallbacks: RawOptions,
): { path: string; origin: string } | undefined {
  for (const [source, origin] of [
    [flags, '--config'],
    [env, envNameOf('config')],
    [fallbacks, '--config (command default)'],
  ] as const) {
    const v = source['config'];
    if (typeof v === 'string' && v.trim() !== '') return { path: v, origin };
    if (v !== undefined) return undefined; // a non-string is reported by the schema
  }
  return undefined;
}

function keepKnown(options: RawOptions, problems: string[], describe: (key: string) => string): RawOptions {
  const kept: RawOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!findFlag(key)) {
      problems.push(
        `${describe(key)}: no such option; see --help${suggest(
          key,
          FLAGS.map((f) => f.name),
        )}`,
      );
      continue;
    }
    kept[key] = value;
  }
  return kept;
}

export function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file does not exist; check the path';
  if (code === 'EISDIR') return 'is a directory, not a file; give the path of the file inside it';
  if (code === 'EACCES' || code === 'EPERM') return describePermissionDenied((err as NodeJS.ErrnoException).path);
  return `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`;
}

/** A "did you mean" hint for a near-miss name (edit distance ≤ 3). */
function suggest(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 4;
  const normalized = name.toLowerCase().replace(/_/g, '-');
  for (const c of candidates) {
    const d = editDistance(normalized, c.toLowerCase().replace(/_/g, '-'));
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
