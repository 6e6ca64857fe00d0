// A malformed command line (unknown command or flag, missing flag argument) exits 2; a missing required option is 78.
import t from 'tap';
import { runCli } from './fixtures.js';

const cases: [string, string[], RegExp][] = [
  ['unknown command', ['serve'], /unknown command 'serve'/],
  ['unknown flag on the default command', ['--upstrem', 'http://127.0.0.1:1'], /unknown option '--upstrem'/],
  ['unknown flag on run', ['run', '--bogus'], /unknown option '--bogus'/],
  ['unknown flag on check', ['check', '--json', '--nope'], /unknown option '--nope'/],
  ['missing flag argument', ['run', '--upstream'], /argument missing/],
  ['missing flag argument on dev', ['dev', '--listen'], /argument missing/],
  ['inspect without a file', ['inspect'], /missing required argument 'file'/],
  ['certs without a sub-command', ['certs'], /Usage: mtls-sidecar certs/],
  ['certs init without a directory', ['certs', 'init'], /missing required argument 'dir'/],
  ['unknown flag on certs init', ['certs', 'init', '/tmp/never-created', '--bogus'], /unknown option '--bogus'/],
  ['stray argument to run', ['run', 'extra'], /too many arguments/],
];

for (const [name, args, pattern] of cases) {
  t.test(name, async (t) => {
    const r = runCli(args);
    t.equal(r.status, 2, `exit 2 for: ${args.join(' ')}`);
    t.match(r.stderr, pattern);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

t.test('a missing required option is a configuration error, not usage', async (t) => {
  const r = runCli(['run', '--allow-any-verified']);
  t.equal(r.status, 78);
  t.match(r.stderr, /--upstream is required/);
});

t.test('--help and --version succeed', async (t) => {
  t.equal(runCli(['--help']).status, 0);
  t.equal(runCli(['help', 'run']).status, 0);
  const v = runCli(['--version']);
  t.equal(v.status, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+/);
});
