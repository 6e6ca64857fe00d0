// The built CLI refuses a bad policy at start with exit 78 and messages naming the file, the route and the key.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTestPki } from '../helpers/gate-harness.js';

const MAIN = resolve('dist/main.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTLS_SIDECAR_')));
  return new Promise((done) => {
    execFile(process.execPath, [MAIN, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

t.test(
  'bad policy files and conflicting defaults exit 78 with named keys',
  { skip: existsSync(MAIN) ? false : 'dist/main.js is not built (npm run build)' },
  async (t) => {
    const pki = makeTestPki();
    t.teardown(() => pki.cleanup());
    const base = [
      'run',
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      'http://127.0.0.1:9',
      '--metrics-listen',
      'off',
      '--allow-insecure-posture',
      '--cert',
      pki.server.cert,
      '--key',
      pki.server.key,
      '--client-ca',
      pki.ca.cert,
    ];
    const bad = join(pki.dir, 'bad-policy.yaml');
    writeFileSync(
      bad,
      [
        'routes:',
        '  - path: admin',
        '    allow:',
        '      - uri: spiffe://example.org/ns/ops/sa/console',
        '  - path: /reports',
        '    method: [GET]',
        '    allow: everyone',
        '  - path: /jobs',
        '    methods: [FETCH]',
        '    allow:',
        '      - { cn: jobs, team: ops }',
        'default:',
        '  allow:',
        '    - uri: spiffe://example.org/ns/prod/*',
        '',
      ].join('\n'),
    );
    const r = await runCli([...base, '--policy', bad]);
    t.equal(r.code, 78, 'EX_CONFIG');
    const text = r.stdout + r.stderr;
    t.match(text, /routes\[0\]\.path: "admin" must start with "\/"/);
    t.match(text, /routes\[1\]\.method: unknown key/);
    t.match(text, /routes\[1\]\.allow: "everyone" is not understood/);
    t.match(text, /routes\[2\]\.methods\[0\]: .*FETCH.* is not an HTTP method/);
    t.match(text, /routes\[2\]\.allow\[0\]\.team: unknown key/);
    t.ok(text.includes(bad), 'the file is named');
    t.notMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace');

    const good = join(pki.dir, 'policy.yaml');
    writeFileSync(
      good,
      'routes:\n  - path: /healthz\n    allow: any-verified\ndefault:\n  allow:\n    - uri: spiffe://example.org/ns/prod/*\n',
    );
    const both = await runCli([...base, '--policy', good, '--allow-uri', 'spiffe://example.org/ns/dev/*']);
    t.equal(both.code, 78, 'a policy default and --allow-* flags together are refused');
    t.match(both.stdout + both.stderr, /default: and the --allow-\* flags both define/);
  },
);
