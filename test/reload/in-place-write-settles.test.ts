// A file written in place (not renamed) is loaded only once it is stable: a writer that pauses mid-way — a policy file
// after its `default:`, a two-CRL file at the PEM boundary — never gets its half-written state used.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { SETTLE_MS } from '../../src/state/reloader.js';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
  type TestProxy,
} from '../helpers/gate-harness.js';
import { chainPem, makeCa, makeCrlWithNumber, makeLeaf, openssl } from '../helpers/pki.js';

const NO_FLAGS = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };
/** Shorter than SETTLE_MS, longer than the reload interval: the old reloader read the half file on a tick. */
const PAUSE_MS = Math.round(SETTLE_MS * 0.7);

/** Writes `first`, pauses, writes `rest`, into the same open file (truncated, as `cat > file` or an editor would). */
async function writeInPlace(file: string, first: string, rest: string): Promise<void> {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, first);
    await delay(PAUSE_MS);
    writeSync(fd, rest);
  } finally {
    closeSync(fd);
  }
}

/** Calls `probe` every ~20 ms until `done` holds (bounded), collecting every status seen. */
async function watchWhile(probe: () => Promise<number>, done: () => Promise<boolean>): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    seen.push(await probe());
    if (await done()) break;
    await delay(20);
  }
  for (let i = 0; i < 5; i++) seen.push(await probe());
  return seen;
}

const successes = (proxy: TestProxy) => metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'success' });

t.test('a policy file paused after its default: never opens /admin', async (t) => {
  const pki = makeTestPki();
  const policy = join(pki.dir, 'policy.yaml');
  const locked = 'routes:\n  - path: /admin\n    allow:\n      - cn: ops\ndefault:\n  allow:\n    - cn: orders\n';
  await writeInPlace(policy, locked, '');
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy, reloadIntervalMs: 100 }));
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
    pki.cleanup();
  });
  const admin = () =>
    httpsRequest({
      port: proxy.port,
      ca: pki.ca.certPem,
      cert: pki.client.certPem,
      key: pki.client.keyPem,
      path: '/admin',
    }).then(
      (r) => r.status,
      () => 0,
    );
  t.equal(await admin(), 403, 'orders may not use /admin');

  const head = 'default:\n  allow:\n    - cn: orders\n';
  const tail =
    'routes:\n  - path: /admin\n    allow:\n      - cn: ops\n  - path: /v2\n    allow:\n      - cn: orders\n';
  const before = await successes(proxy);
  const writing = writeInPlace(policy, head, tail);
  const statuses = await watchWhile(admin, async () => (await successes(proxy)) > before);
  await writing;
  t.notOk(statuses.includes(200), `/admin never opened while the file was written (${statuses.length} requests)`);
  t.ok((await successes(proxy)) > before, 'the finished file was loaded');
  const v2 = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/v2',
  });
  t.equal(v2.status, 200, 'the new policy (with its /v2 route) is in force');
  t.equal(upstream.received.filter((r) => r.url.startsWith('/admin')).length, 0, 'the upstream never received /admin');
});

t.test('a two-CRL file paused at the PEM boundary never admits the revoked caller', async (t) => {
  const pki = makeTestPki();
  const inter = makeCa(pki.dir, 'inter', { subject: '/CN=Team Intermediate', issuer: pki.ca });
  const revoked = makeLeaf(pki.dir, 'revoked', inter, {
    subject: '/CN=revoked',
    san: ['URI:spiffe://example.org/ns/prod/sa/revoked'],
  });
  const bundle = join(pki.dir, 'bundle.pem');
  await writeInPlace(bundle, chainPem(pki.ca, inter), '');
  const pem = (f: string): string => openssl(['crl', '-in', f]);
  const crlPath = join(pki.dir, 'crls.pem');
  await writeInPlace(
    crlPath,
    pem(makeCrlWithNumber(pki.dir, pki.ca, [], { crlNumber: 1 })),
    pem(makeCrlWithNumber(pki.dir, inter, [revoked], { crlNumber: 1 })),
  );
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, { clientCa: [bundle], crl: [crlPath], reloadIntervalMs: 100 }),
  );
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
    pki.cleanup();
  });
  const call = () =>
    httpsRequest({ port: proxy.port, ca: pki.ca.certPem, cert: chainPem(revoked, inter), key: revoked.keyPem }).then(
      (r) => r.status,
      () => 0,
    );
  t.equal(await call(), 0, 'the revoked caller is refused');

  const before = await successes(proxy);
  const failuresBefore = await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' });
  const later = Date.now() + 1000;
  const writing = writeInPlace(
    crlPath,
    pem(makeCrlWithNumber(pki.dir, pki.ca, [], { crlNumber: 2, lastUpdateMs: later - 60_000 })),
    pem(makeCrlWithNumber(pki.dir, inter, [revoked], { crlNumber: 2, lastUpdateMs: later - 60_000 })),
  );
  const statuses = await watchWhile(call, async () => (await successes(proxy)) > before);
  await writing;
  t.notOk(
    statuses.includes(200),
    `the revoked caller never got a 200 while the file was written (${statuses.length} tries)`,
  );
  t.ok((await successes(proxy)) > before, 'the finished file was loaded');
  t.equal(
    await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' }),
    failuresBefore,
    'the half-written file was never even tried',
  );
  t.equal(upstream.received.length, 0, 'the upstream received nothing');
});
