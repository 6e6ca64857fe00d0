// main(): commands receive what the command line said, and errors map to exit codes (UserError's own, else 70).
import t from 'tap';
import { UserError } from '../../../src/errors.js';
import type { Config, ConfigInput } from '../../../src/config/types.js';
import type { CertsInitOptions } from '../../../src/cli/certs-init.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);

interface Calls {
  run?: Config;
  dev?: ConfigInput;
  check?: [ConfigInput, { json: boolean }];
  inspect?: [string, ConfigInput, { json: boolean; withConfig: boolean }];
  certs?: [string, CertsInitOptions];
}

/** main() with the command modules replaced, so only the dispatch and error mapping are under test. */
async function loadMain(behaviour: { throws?: Error; checkCode?: number } = {}) {
  const calls: Calls = {};
  const fail = async (): Promise<void> => {
    if (behaviour.throws) throw behaviour.throws;
  };
  const { main } = await t.mockImport<typeof import('../../../src/cli/program.js')>('../../../src/cli/program.js', {
    '../../../src/cli/run.js': { runCommand: async (c: Config) => ((calls.run = c), fail()) },
    '../../../src/cli/dev.js': { devCommand: async (i: ConfigInput) => ((calls.dev = i), fail()) },
    '../../../src/cli/check.js': {
      checkCommand: async (i: ConfigInput, o: { json: boolean }) => (
        (calls.check = [i, o]),
        await fail(),
        behaviour.checkCode ?? 0
      ),
    },
    '../../../src/cli/inspect.js': {
      inspectCommand: async (f: string, i: ConfigInput, o: { json: boolean; withConfig: boolean }) => (
        (calls.inspect = [f, i, o]),
        fail()
      ),
    },
    '../../../src/cli/certs-init.js': {
      certsInitCommand: async (d: string, o: CertsInitOptions) => ((calls.certs = [d, o]), fail()),
    },
  });
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  return {
    calls,
    run: (argv: string[], env: Record<string, string> = {}) => main(argv, env, io),
    output: () => ({ out, err }),
  };
}

const valid = [
  '--upstream',
  'http://127.0.0.1:8080',
  '--cert',
  files.cert,
  '--key',
  files.key,
  '--client-ca',
  files.ca,
  '--client-ca',
  files.ca2,
  '--allow-cn',
  'orders',
];

t.test('no command means run, with the loaded config', async (t) => {
  const m = await loadMain();
  t.equal(await m.run(valid), 0);
  t.same(m.calls.run?.clientCa, [files.ca, files.ca2], 'repeatable flag collected in order');
  t.same(m.calls.run?.allow.cn, ['orders']);
});

t.test('dev and check get the raw input; check exit code passes through', async (t) => {
  const m = await loadMain({ checkCode: 1 });
  t.equal(await m.run(['dev', '--upstream', 'http://127.0.0.1:9', '--forward-cert']), 0);
  t.same(m.calls.dev?.flags, { upstream: 'http://127.0.0.1:9', 'forward-cert': true });
  t.equal(await m.run(['check', '--json', '--workers', '2'], { MTLS_SIDECAR_LOG_LEVEL: 'warn' }), 1);
  t.same(m.calls.check?.[0].flags, { workers: '2' });
  t.same(m.calls.check?.[0].env, { MTLS_SIDECAR_LOG_LEVEL: 'warn' });
  t.same(m.calls.check?.[1], { json: true });
  t.equal(await m.run(['dev', '--no-forward-cert']), 0);
  t.same(m.calls.dev?.flags, { 'forward-cert': false });
});

t.test('inspect knows whether any config source was given', async (t) => {
  const m = await loadMain();
  await m.run(['inspect', 'leaf.pem']);
  t.same(m.calls.inspect?.[2], { json: false, withConfig: false });
  await m.run(['inspect', 'leaf.pem', '--json'], { MTLS_SIDECAR_DEBUG: '1' });
  t.same(m.calls.inspect?.[2], { json: true, withConfig: false }, 'MTLS_SIDECAR_DEBUG is not configuration');
  await m.run(['inspect', 'leaf.pem', '--allow-cn', 'orders']);
  t.same(m.calls.inspect?.[2], { json: false, withConfig: true });
  await m.run(['inspect', 'leaf.pem'], { MTLS_SIDECAR_CONFIG: '/etc/x.yaml' });
  t.equal(m.calls.inspect?.[2].withConfig, true);
});

t.test('certs init options', async (t) => {
  const m = await loadMain();
  await m.run(['certs', 'init', 'out']);
  t.same(m.calls.certs, ['out', { hosts: ['localhost', '127.0.0.1'], clients: [], uris: [], force: false }]);
  await m.run([
    'certs',
    'init',
    'out',
    '--hosts',
    'a.example, 10.0.0.1',
    '--client',
    'orders',
    '--client',
    'billing',
    '--uri',
    'spiffe://x/a',
    '--force',
  ]);
  t.same(m.calls.certs, [
    'out',
    { hosts: ['a.example', '10.0.0.1'], clients: ['orders', 'billing'], uris: ['spiffe://x/a'], force: true },
  ]);
});

t.test('a UserError prints one line with its exit code and no stack', async (t) => {
  const m = await loadMain({ throws: new UserError('refusing to overwrite out/ca.key: pass --force', 78) });
  t.equal(await m.run(['certs', 'init', 'out']), 78);
  t.equal(m.output().err, 'mtls-sidecar: refusing to overwrite out/ca.key: pass --force\n');
});

t.test('an unexpected error exits 70; the stack only with MTLS_SIDECAR_DEBUG=1', async (t) => {
  const m = await loadMain({ throws: new TypeError('boom\nsecond line') });
  t.equal(await m.run(valid), 70);
  t.match(m.output().err, /^mtls-sidecar: unexpected error: boom\n/);
  t.notMatch(m.output().err, /second line|\n\s+at /);
  const d = await loadMain({ throws: new TypeError('boom') });
  t.equal(await d.run(valid, { MTLS_SIDECAR_DEBUG: '1' }), 70);
  t.match(d.output().err, /\n\s+at /);
});

t.test('a configuration error never reaches the command', async (t) => {
  const m = await loadMain();
  t.equal(await m.run(['run', '--upstream', 'nope']), 78);
  t.equal(m.calls.run, undefined);
  t.match(m.output().err, /^mtls-sidecar: configuration refused:\n {2}- --upstream: /);
});
