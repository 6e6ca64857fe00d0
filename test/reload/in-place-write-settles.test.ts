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
const MAX_ATTEMPTS = 5;

/**
 * Writes `first`, pauses, writes `rest`, into the same open file (truncated, as `cat > file` or an editor would), and
 * resolves with the pause the writer really made (a busy machine stretches it).
 */
async function writeInPlace(file: string, first: string, rest: string): Promise<number> {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, first);
    const wrote = Date.now();
    await delay(PAUSE_MS);
    const pausedMs = Date.now() - wrote;
    writeSync(fd, rest);
    return pausedMs;
  } finally {
    closeSync(fd);
  }
}

/**
 * Repeats `attempt` (bounded) until the writer's real pause was shorter than SETTLE_MS. The proxy runs in this process,
 * so it saw the half file no earlier than the first write and judged it no later than the second: with a shorter pause
 * it cannot have seen the half file stable for SETTLE_MS, and any use of it is a defect. A longer pause (the event loop
 * stalled on a loaded machine) is the case the README leaves open, so that attempt proves nothing and is repeated.
 */
async function withBriefPause<R extends { pausedMs: number }>(
  t: { comment(message: string): void; fail(message: string): void },
  attempt: (n: number) => Promise<R>,
): Promise<R | undefined> {
  const pauses: number[] = [];
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const result = await attempt(n);
    pauses.push(result.pausedMs);
    if (result.pausedMs < SETTLE_MS) {
      t.comment(`writer pauses: ${pauses.join(', ')} ms (settle window ${SETTLE_MS} ms)`);
      return result;
    }
  }
  t.fail(`the writer never paused for less than ${SETTLE_MS} ms in ${MAX_ATTEMPTS} attempts (${pauses.join(', ')} ms)`);
  return undefined;
}

/** Polls `probe` until it answers `wanted` (bounded), so an attempt starts from the finished file of the one before. */
async function settleOn(probe: () => Promise<number>, wanted: (status: number) => boolean): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (wanted(await probe())) return true;
    await delay(50);
  }
  return false;
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
  // Each attempt finishes a different file, so each one is a change the reloader must load.
  const tail = (n: number) =>
    `routes:\n  - path: /admin\n    allow:\n      - cn: ops\n  - path: /v2\n    allow:\n      - cn: orders\n# version ${n}\n`;
  const adminReceived = () => upstream.received.filter((r) => r.url.startsWith('/admin')).length;
  const attempt = await withBriefPause(t, async (n) => {
    const before = await successes(proxy);
    const adminBefore = adminReceived();
    const writing = writeInPlace(policy, head, tail(n));
    const statuses = await watchWhile(admin, async () => (await successes(proxy)) > before);
    const pausedMs = await writing;
    const closed = await settleOn(admin, (s) => s === 403);
    return { pausedMs, statuses, before, closed, adminForwarded: adminReceived() - adminBefore };
  });
  if (!attempt) return;
  t.notOk(
    attempt.statuses.includes(200),
    `/admin never opened while the file was written (${attempt.statuses.length} requests)`,
  );
  t.ok((await successes(proxy)) > attempt.before, 'the finished file was loaded');
  t.ok(attempt.closed, '/admin is closed under the finished file');
  const v2 = await httpsRequest({
    port: proxy.port,
    ca: pki.ca.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
    path: '/v2',
  });
  t.equal(v2.status, 200, 'the new policy (with its /v2 route) is in force');
  t.equal(attempt.adminForwarded, 0, 'the upstream never received /admin');
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

  const failures = () => metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' });
  const attempt = await withBriefPause(t, async (n) => {
    const before = await successes(proxy);
    const failuresBefore = await failures();
    const forwardedBefore = upstream.received.length;
    // A higher CRL number each attempt: a reload never takes an older CRL back.
    const crlNumber = 1 + n;
    const later = Date.now() + 1000;
    const writing = writeInPlace(
      crlPath,
      pem(makeCrlWithNumber(pki.dir, pki.ca, [], { crlNumber, lastUpdateMs: later - 60_000 })),
      pem(makeCrlWithNumber(pki.dir, inter, [revoked], { crlNumber, lastUpdateMs: later - 60_000 })),
    );
    const statuses = await watchWhile(call, async () => (await successes(proxy)) > before);
    const pausedMs = await writing;
    const refused = await settleOn(call, (s) => s !== 200);
    return {
      pausedMs,
      statuses,
      before,
      refused,
      failed: (await failures()) - failuresBefore,
      forwarded: upstream.received.length - forwardedBefore,
    };
  });
  if (!attempt) return;
  t.notOk(
    attempt.statuses.includes(200),
    `the revoked caller never got a 200 while the file was written (${attempt.statuses.length} tries)`,
  );
  t.ok((await successes(proxy)) > attempt.before, 'the finished file was loaded');
  t.ok(attempt.refused, 'the revoked caller is refused under the finished file');
  t.equal(attempt.failed, 0, 'the half-written file was never even tried');
  t.equal(attempt.forwarded, 0, 'the upstream received nothing');
});
