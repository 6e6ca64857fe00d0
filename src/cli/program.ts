// The command line: argv → command → exit code (0/1/2/78/70); main.ts only calls this and exits.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { UserError, EXIT_OK, EXIT_USAGE } from '../errors.js';
import { ENV_PREFIX, FLAGS, describeFlag, isNonFlagEnvName, type FlagSpec } from '../config/flags.js';
import { loadConfig } from '../config/load-config.js';
import type { ConfigInput, RawOptions } from '../config/types.js';

export const EXIT_SOFTWARE = 70;

export interface ProgramOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processOutput: ProgramOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const HELP_FOOTER = `
Precedence: flag > environment variable > config file (--config) > default.
Lists repeat the flag (--client-ca a.pem --client-ca b.pem), are comma-separated in the
environment (';' for MTLS_SIDECAR_ALLOW_SUBJECT) and YAML/JSON sequences in the config file.
Each boolean flag has a negated form (--no-forward-cert, …) that sets false over the environment or config file.
Durations: 500ms, 30s, 2m, 1h.
Exit codes: 0 ok, 1 check failed, 2 usage, 78 configuration or posture refused, 70 internal error.`;

/** What `dev` uses when a flag is not given (see dev.ts), shown in its --help instead of run's defaults. */
const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  listen: '127.0.0.1:8443',
  upstream: 'a built-in echo upstream',
  cert: 'development certificates in ./.mtls-dev',
  key: 'development certificates in ./.mtls-dev',
  'client-ca': 'development certificates in ./.mtls-dev',
  'allow-uri': 'the development client',
  'metrics-listen': '127.0.0.1:8444, or a free port when that one is in use',
  'allow-insecure-posture': 'true (findings are printed, not enforced)',
};

/** Run the command line; resolves to the process exit code and never exits itself. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: ProgramOutput = processOutput,
): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(env, io, (c) => (code = c));
  try {
    await program.parseAsync(withDefaultCommand(argv), { from: 'user' });
    return code;
  } catch (err) {
    return exitCodeFor(err, env, io);
  }
}

/** `mtls-sidecar` and `mtls-sidecar --upstream …` mean `run`; an unknown word stays an unknown command (exit 2). */
function withDefaultCommand(argv: string[]): string[] {
  const first = argv[0];
  if (first === undefined) return ['run'];
  if (first.startsWith('-') && !['-h', '--help', '-V', '--version'].includes(first)) return ['run', ...argv];
  return argv;
}

function exitCodeFor(err: unknown, env: Record<string, string | undefined>, io: ProgramOutput): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message; asked-for help and version succeed, the rest is usage (even
    // help shown because a sub-command was missing, which commander reports with exit code 1).
    return err.exitCode === 0 && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)
      ? EXIT_OK
      : EXIT_USAGE;
  }
  if (err instanceof UserError) {
    io.err(`mtls-sidecar: ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.err(`mtls-sidecar: unexpected error: ${message.split('\n')[0]}\n`);
  if (env['MTLS_SIDECAR_DEBUG'] === '1' && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
  else io.err('mtls-sidecar: set MTLS_SIDECAR_DEBUG=1 for a stack trace\n');
  return EXIT_SOFTWARE;
}

function buildProgram(
  env: Record<string, string | undefined>,
  io: ProgramOutput,
  setCode: (code: number) => void,
): Command {
  const program = new Command('mtls-sidecar')
    .description('mTLS front door: admits only callers with a verified, allowed client certificate')
    .version(readVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  const inputFrom = (cmd: Command): ConfigInput => ({ flags: readConfigFlags(cmd), env });

  // Every command loads on demand: `check` and `inspect` never load the server (fastify, undici), `run` never pays for
  // node-forge (dev certificates) or the report code.
  configCommand(program.command('run'), 'start the proxy (the default command)').action(async (_opts, cmd: Command) => {
    const { runCommand } = await import('./run.js');
    await runCommand(loadConfig(inputFrom(cmd)));
  });
  configCommand(
    program.command('dev'),
    'local gateway with development certificates in ./.mtls-dev and a built-in echo upstream',
    DEV_DEFAULTS,
  ).action(async (_opts, cmd: Command) => {
    const { devCommand } = await import('./dev.js');
    await devCommand(inputFrom(cmd));
  });
  configCommand(
    program.command('check'),
    'load config, certificates, CRLs, policy and posture; report; exit 0 when it would start, 1 when not',
  )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { checkCommand } = await import('./check.js');
      setCode(await checkCommand(inputFrom(cmd), { json: opts.json === true }));
    });
  configCommand(
    program.command('inspect'),
    "print a certificate's identity as the proxy sees it and, given a config, which rules admit it",
  )
    .argument('<file>', 'PEM certificate to inspect')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const input = inputFrom(cmd);
      const { inspectCommand } = await import('./inspect.js');
      await inspectCommand(file, input, { json: opts.json === true, withConfig: hasConfigSource(input) });
    });

  // Sub-commands inherit exitOverride and output settings because they were set on `program` first.
  const certs = program
    .command('certs')
    .description('development certificate tools: a CA, server and clients; add and revoke clients');
  certs
    .command('init')
    .description('create a CA, a server certificate and client certificates in DIR (never overwrites without --force)')
    .argument('<dir>', 'directory to write into')
    .option('--hosts <list>', 'server certificate host names and IPs, comma-separated', 'localhost,127.0.0.1')
    .option('--client <name>', 'client certificate to create (repeatable; default: one client named "client")', collect)
    .option(
      '--uri <[name=]uri>',
      'URI SAN, e.g. a SPIFFE ID: NAME=URI for client NAME, or a bare URI when only one client is made (repeatable)',
      collect,
    )
    .option('--force', 'overwrite existing files')
    .action(async (dir: string, opts: { hosts: string; client?: string[]; uri?: string[]; force?: boolean }) => {
      const { certsInitCommand } = await import('./certs-init.js');
      const hosts = opts.hosts
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '');
      await certsInitCommand(dir, {
        hosts,
        clients: opts.client ?? [],
        uris: opts.uri ?? [],
        force: opts.force === true,
      });
    });
  certs
    .command('add-client')
    .description(
      'create one more client certificate NAME.crt/NAME.key, signed by the CA in DIR (the CA is never changed)',
    )
    .argument('<dir>', 'a directory made by `certs init` (ca.crt and ca.key)')
    .argument('<name>', 'client name: the CN and the file names')
    .option('--uri <uri>', 'URI SAN, e.g. a SPIFFE ID (repeatable)', collect)
    .option('--dns <name>', 'DNS SAN (repeatable)', collect)
    .option('--force', 'replace an existing NAME.crt/NAME.key (exit 78 without it)')
    .action(async (dir: string, name: string, opts: { uri?: string[]; dns?: string[]; force?: boolean }) => {
      const { certsAddClientCommand } = await import('./certs-add-client.js');
      await certsAddClientCommand(dir, name, { uris: opts.uri ?? [], dns: opts.dns ?? [], force: opts.force === true });
    });
  certs
    .command('revoke')
    .description(
      'revoke clients: add their serials to DIR/crl.pem (created if missing), signed by the CA, with the next CRL number',
    )
    .argument('<dir>', 'a directory made by `certs init` (ca.crt and ca.key)')
    .argument('[names...]', 'clients to revoke (NAME.crt in DIR)')
    .option(
      '--serial <hex>',
      'revoke this serial too, e.g. of a certificate whose file was replaced (repeatable)',
      collect,
    )
    .option('--days <n>', "days until the CRL's nextUpdate (default: 30)")
    .action(async (dir: string, names: string[], opts: { serial?: string[]; days?: string }) => {
      const { certsRevokeCommand } = await import('./certs-revoke.js');
      await certsRevokeCommand(dir, names, { serials: opts.serial ?? [], days: opts.days });
    });
  certs
    .command('crl')
    .description(
      're-sign DIR/crl.pem with the same revocations, a new CRL number and a new nextUpdate (or write an empty one)',
    )
    .argument('<dir>', 'a directory made by `certs init` (ca.crt and ca.key)')
    .option('--days <n>', "days until the CRL's nextUpdate (default: 30)")
    .action(async (dir: string, opts: { days?: string }) => {
      const { certsCrlCommand } = await import('./certs-revoke.js');
      await certsCrlCommand(dir, { days: opts.days });
    });

  program.addHelpText(
    'after',
    `\nRun "mtls-sidecar <command> --help" for the flags of a command; with no command, "run" is assumed.\n` +
      'Exit codes: 0 ok, 1 check failed, 2 usage, 78 configuration or posture refused, 70 internal error.',
  );
  return program;
}

/** Add every flag of the table to a command; no commander defaults, so env and file can still apply. */
function configCommand(cmd: Command, description: string, defaults: Readonly<Record<string, string>> = {}): Command {
  cmd.description(description).addHelpText('after', HELP_FOOTER);
  for (const flag of FLAGS) {
    for (const option of optionsFor(flag, defaults[flag.name])) cmd.addOption(option);
  }
  return cmd;
}

function optionsFor(flag: FlagSpec, defaultText: string | undefined): Option[] {
  const help = describeFlag(flag, defaultText);
  if (flag.kind === 'boolean') {
    // The negation lets a flag override `true` from env or the config file.
    return [
      new Option(`--${flag.name}`, help),
      new Option(`--no-${flag.name}`, `turn --${flag.name} off (over the environment or config file)`),
    ];
  }
  const option = new Option(`--${flag.name} ${flag.valueName ?? '<value>'}`, help);
  return [flag.kind === 'list' ? option.argParser(collect) : option];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The config flags given on this command line, keyed by flag name. */
function readConfigFlags(cmd: Command): RawOptions {
  const flags: RawOptions = {};
  for (const flag of FLAGS) {
    const option = cmd.options.find((o) => o.long === `--${flag.name}`);
    const value = option ? cmd.getOptionValue(option.attributeName()) : undefined;
    if (value !== undefined) flags[flag.name] = value;
  }
  return flags;
}

/** `inspect` matches rules only when the operator gave some configuration. */
function hasConfigSource(input: ConfigInput): boolean {
  if (Object.keys(input.flags).length > 0) return true;
  return Object.entries(input.env).some(
    ([k, v]) => k.startsWith(ENV_PREFIX) && !isNonFlagEnvName(k) && v !== undefined && v !== '',
  );
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
