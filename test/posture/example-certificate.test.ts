// The shipped certs-example/server.crt is recognised by its SHA-256 (as openssl prints it); another certificate is not.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { EXAMPLE_SERVER_CERT_SHA256 } from '../../src/posture/example-cert.js';
import { evaluatePosture } from '../../src/posture/findings.js';
import { probePosture } from '../../src/posture/probe.js';
import { makeCa, makeTmpDir, removeDir } from '../helpers/pki.js';
import { makeFsRoot } from './helpers/fixtures.js';

const EXAMPLE_CERT = resolve(dirname(fileURLToPath(import.meta.url)), '../../certs-example/server.crt');

function readDer(pemFile: string): Buffer {
  return execFileSync('openssl', ['x509', '-in', pemFile, '-outform', 'DER']);
}

/** `sha256 Fingerprint=E0:08:…`, the form an operator would copy. */
function readOpensslFingerprint(pemFile: string): string {
  const out = execFileSync('openssl', ['x509', '-in', pemFile, '-noout', '-fingerprint', '-sha256'], {
    encoding: 'utf8',
  });
  return out.trim().split('=')[1] ?? '';
}

t.test('example certificate in use', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  const der = readDer(EXAMPLE_CERT);
  const withOpenssl = probePosture(
    { keyFiles: [], serverCertDer: der, exampleCertSha256: readOpensslFingerprint(EXAMPLE_CERT) },
    { fsRoot: fs.fsRoot },
  );
  t.equal(withOpenssl.exampleCertInUse, true, 'colon-separated uppercase fingerprint matches');
  const withConstant = probePosture(
    { keyFiles: [], serverCertDer: der, exampleCertSha256: [EXAMPLE_SERVER_CERT_SHA256] },
    { fsRoot: fs.fsRoot },
  );
  t.equal(withConstant.exampleCertInUse, true, 'the constant devcerts exports matches the shipped file');
  const finding = evaluatePosture(withConstant).find((f) => f.id === 'example-certificate');
  t.equal(finding?.severity, 'warn');
});

t.test('another certificate, or no fingerprint list', async (t) => {
  const fs = makeFsRoot();
  const dir = makeTmpDir();
  t.teardown(() => {
    fs.cleanup();
    removeDir(dir);
  });
  const own = makeCa(dir, 'own-server');
  const facts = probePosture(
    { keyFiles: [], serverCertDer: readDer(own.cert), exampleCertSha256: EXAMPLE_SERVER_CERT_SHA256 },
    { fsRoot: fs.fsRoot },
  );
  t.equal(facts.exampleCertInUse, false);
  t.notOk(evaluatePosture(facts).some((f) => f.id === 'example-certificate'));
  t.equal(
    probePosture({ keyFiles: [], serverCertDer: readDer(EXAMPLE_CERT) }, { fsRoot: fs.fsRoot }).exampleCertInUse,
    false,
  );
});
