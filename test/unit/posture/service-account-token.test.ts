// A mounted Kubernetes service-account token (either path) is a warning naming automountServiceAccountToken.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { makeFsRoot } from '../../posture/helpers/fixtures.js';

for (const base of ['var/run', 'run']) {
  t.test(`token under /${base}`, async (t) => {
    const fs = makeFsRoot();
    t.teardown(fs.cleanup);
    const dir = join(fs.fsRoot, base, 'secrets/kubernetes.io/serviceaccount');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), 'eyJhbGciOi.fake.token', { mode: 0o600 });
    const facts = probePosture({ keyFiles: [] }, { fsRoot: fs.fsRoot });
    t.equal(facts.serviceAccountToken, `/${base}/secrets/kubernetes.io/serviceaccount/token`);
    const finding = evaluatePosture(facts).find((f) => f.id === 'service-account-token');
    t.equal(finding?.severity, 'warn');
    t.match(finding?.remediation, 'automountServiceAccountToken: false');
    t.notMatch(finding?.message, 'eyJ', 'the token itself is never read or shown');
  });
}

t.test('no token', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  t.equal(probePosture({ keyFiles: [] }, { fsRoot: fs.fsRoot }).serviceAccountToken, null);
});
