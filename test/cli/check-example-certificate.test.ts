// `check` warns (example-certificate, severity warn) when the server certificate is the shipped
// certs-example/server.crt, and not otherwise.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, REPO, runCli } from '../config/fixtures.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir } from '../helpers/pki.js';

interface Report {
  posture: { findings: { id: string; severity: string; remediation: string }[] };
}

const EXAMPLES = join(REPO, 'certs-example');

t.test('example certificate', { skip: existsSync(CLI) ? false : 'dist/main.js is not built' }, async (t) => {
  const run = (cert: string, key: string, ca: string): Report => {
    const result = runCli([
      'check',
      '--json',
      '--upstream',
      'http://127.0.0.1:9',
      '--cert',
      cert,
      '--key',
      key,
      '--client-ca',
      ca,
      '--allow-any-verified',
    ]);
    return JSON.parse(result.stdout) as Report;
  };

  const shipped = run(join(EXAMPLES, 'server.crt'), join(EXAMPLES, 'server.key'), join(EXAMPLES, 'ca.crt'));
  const finding = shipped.posture.findings.find((f) => f.id === 'example-certificate');
  t.equal(finding?.severity, 'warn', 'the shipped example is flagged');
  t.match(finding?.remediation, /certs init/, 'and the fix says how to make your own');

  const dir = makeTmpDir('mtls-check-example-');
  t.teardown(() => removeDir(dir));
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', ca, { subject: '/CN=localhost', san: ['DNS:localhost'], eku: 'serverAuth' });
  const own = run(server.cert, server.key, ca.cert);
  t.notOk(
    own.posture.findings.some((f) => f.id === 'example-certificate'),
    'an own certificate is not flagged',
  );
});
