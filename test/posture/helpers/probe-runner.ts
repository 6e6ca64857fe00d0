// Builds a standalone copy of src/posture (transpiled to plain JS) so tests can run the real probe in a child process
// as any user.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Finding } from '../../../src/posture/types.js';
import type { PostureFacts } from '../../../src/posture/probe.js';

const SOURCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/posture');

// The child prints { facts, findings } as JSON. With --listen-unix PATH it first listens on a unix
// socket there, so a runtime socket exists for the duration of the probe.
const RUNNER = `
import { createServer } from 'node:net';
import { probePosture } from './posture/probe.js';
import { evaluatePosture } from './posture/findings.js';
const args = process.argv.slice(2);
const at = args.indexOf('--listen-unix');
let server;
if (at >= 0) {
  server = createServer();
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(args[at + 1], ok); });
}
const inputs = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{"keyFiles":[]}');
const facts = probePosture(inputs);
process.stdout.write(JSON.stringify({ facts, findings: evaluatePosture(facts) }));
if (server) server.close();
`;

export interface ProbeRunner {
  /** Path of the runner script; run it with `node <script> [--listen-unix PATH] [inputs JSON]`. */
  script: string;
  dir: string;
  cleanup(): void;
}

export interface ProbeOutput {
  facts: PostureFacts;
  findings: Finding[];
}

/** A world-readable temp copy, because a setpriv'd child (uid 10001) may not read the repository. */
export function buildProbeRunner(): ProbeRunner {
  const dir = mkdtempSync(join(tmpdir(), 'posture-runner-'));
  chmodSync(dir, 0o755);
  const out = join(dir, 'posture');
  mkdirSync(out, { mode: 0o755 });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n', { mode: 0o644 });
  for (const file of readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(join(SOURCE_DIR, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(out, file.replace(/\.ts$/, '.js')), js, { mode: 0o644 });
  }
  const script = join(dir, 'runner.mjs');
  writeFileSync(script, RUNNER, { mode: 0o644 });
  return { script, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `command args…` (e.g. setpriv … node runner) and parses the runner's JSON; throws with stderr on failure. */
export function runProbeCommand(command: string, args: string[]): ProbeOutput & { stderr: string } {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
  });
  if (result.status !== 0) {
    throw new Error(`${command} exited ${String(result.status ?? result.signal)}: ${result.stderr}`);
  }
  return { ...(JSON.parse(result.stdout) as ProbeOutput), stderr: result.stderr };
}
