// Resumed sessions of clients that send leaf + intermediate (only the root loaded) are admitted; revocation of the
// leaf or the intermediate, CA removal and policy changes apply to them exactly as to full handshakes.
import { runCollect } from '../helpers/run-collect.js';
import { renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { SecureVersion, TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { makeCa, makeCrl, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../helpers/pki.js';
import { makeChain, type Chain } from '../helpers/hostile-pki.js';
import {
  baseConfig,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
  type TestPki,
  type TestProxy,
} from '../helpers/gate-harness.js';

const NO_FLAGS = { cn: [], ou: [], o: [], dns: [], uri: [], email: [], serial: [], fingerprint: [], subject: [] };
const POLICY = (uri: string) => `routes: []\ndefault:\n  allow:\n    - uri: ${uri}\n`;

function pkiOf(dir: string, root: CertFiles, client: CertFiles): TestPki {
  const server = makeLeaf(dir, 'server', root, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  return { dir, ca: root, server, client, cleanup: () => removeDir(dir) };
}

/**
 * One GET through `agent` (Node's default session cache); whether the TLS session was resumed, from the client's side.
 */
function agentGet(proxy: TestProxy, agent: https.Agent, root: CertFiles, chain: Chain, maxVersion: SecureVersion) {
  return new Promise<{ status: number; resumed: boolean } | { error: string }>((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        servername: 'localhost',
        path: '/r',
        agent,
        ca: root.certPem,
        cert: chain.sentPem,
        key: chain.leaf.keyPem,
        maxVersion,
        minVersion: maxVersion,
      },
      (res) => {
        const resumed = (res.socket as import('node:tls').TLSSocket).isSessionReused();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, resumed }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

/**
 * openssl s_client sending leaf + intermediate (-cert_chain), saving or resuming a session; its output is the oracle.
 */
async function sClient(
  port: number,
  root: CertFiles,
  chain: Chain,
  version: '-tls1_2' | '-tls1_3',
  session: string,
  mode: 'out' | 'in',
): Promise<string> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    'localhost',
    version,
    '-ign_eof',
    '-CAfile',
    root.cert,
    '-cert',
    chain.leaf.cert,
    '-key',
    chain.leaf.key,
    '-cert_chain',
    chain.intermediates[0]!.cert,
    `-sess_${mode}`,
    session,
  ];
  return (await runCollect('openssl', args, 'GET /s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).out;
}

t.test('resumed sessions of a verified leaf + intermediate chain', async (t) => {
  const dir = makeTmpDir('mtls-resume-');
  const root = makeCa(dir, 'Resume Root CA');
  const chain = makeChain(dir, 'orders', { root, intermediates: 1 });
  const pki = pkiOf(dir, root, chain.leaf);
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(policyPath, POLICY('spiffe://example.org/ns/prod/sa/orders'));
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy: policyPath }));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    t.test(`Node https.Agent, ${version}: every later call resumes and gets 200`, async (t) => {
      const agent = new https.Agent({ keepAlive: false });
      t.teardown(() => agent.destroy());
      const calls = [];
      for (let i = 0; i < 4; i += 1) calls.push(await agentGet(proxy, agent, root, chain, version));
      t.same(calls[0], { status: 200, resumed: false }, 'first call: full handshake, 200');
      t.same(
        calls.slice(1),
        [
          { status: 200, resumed: true },
          { status: 200, resumed: true },
          { status: 200, resumed: true },
        ],
        'later calls: resumed, 200',
      );
    });
  }

  for (const version of ['-tls1_2', '-tls1_3'] as const) {
    t.test(`openssl s_client -sess_out/-sess_in ${version}`, async (t) => {
      const session = join(dir, `sess${version}`);
      const first = await sClient(proxy.port, root, chain, version, session, 'out');
      t.match(first, /HTTP\/1\.1 200/, 'full handshake: 200');
      const second = await sClient(proxy.port, root, chain, version, session, 'in');
      t.match(second, /^Reused, TLSv1\.[23]/m, 'the session was resumed (openssl says so)');
      t.match(second, /HTTP\/1\.1 200/, 'resumed: 200');
    });
  }

  t.test('a policy change applies to a resumed session', async (t) => {
    const agent = new https.Agent({ keepAlive: false });
    t.teardown(() => agent.destroy());
    t.match(await agentGet(proxy, agent, root, chain, 'TLSv1.3'), { status: 200 });
    writeFileSync(`${policyPath}.new`, POLICY('spiffe://example.org/ns/prod/sa/billing'));
    renameSync(`${policyPath}.new`, policyPath);
    t.equal(proxy.reload('signal'), 'success');
    const seen = upstream.received.length;
    t.same(
      await agentGet(proxy, agent, root, chain, 'TLSv1.3'),
      { status: 403, resumed: true },
      'resumed, and refused by the new policy',
    );
    t.equal(upstream.received.length, seen, 'the upstream received nothing');
    writeFileSync(`${policyPath}.new`, POLICY('spiffe://example.org/ns/prod/sa/orders'));
    renameSync(`${policyPath}.new`, policyPath);
    t.equal(proxy.reload('signal'), 'success');
  });
});

/**
 * Trust changes rotate the ticket keys, so a client's next connection is a full handshake. To prove the gate itself
 * judges a resumed session, these put the old ticket keys back after the reload (as if rotation had been missed).
 */
async function resumedAfterChange(
  t: Test,
  setup: {
    clientCa: (d: string, root: CertFiles, chain: Chain) => string[];
    change: (d: string, root: CertFiles, chain: Chain, proxy: TestProxy) => void;
  },
  reason: string,
) {
  const dir = makeTmpDir('mtls-resume-change-');
  const root = makeCa(dir, 'Change Root CA');
  const chain = makeChain(dir, 'orders', { root, intermediates: 1 });
  const pki = pkiOf(dir, root, chain.leaf);
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, { clientCa: setup.clientCa(dir, root, chain), crl: [] }),
  );
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const agent = new https.Agent({ keepAlive: false });
  t.teardown(() => agent.destroy());
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    t.same(
      await agentGet(proxy, agent, root, chain, version),
      { status: 200, resumed: false },
      `${version}: full handshake admitted`,
    );
    t.same(
      await agentGet(proxy, agent, root, chain, version),
      { status: 200, resumed: true },
      `${version}: resumed session admitted`,
    );
  }
  const keys = proxy.proxy.server.getTicketKeys();
  setup.change(dir, root, chain, proxy);
  t.equal(proxy.reload('signal'), 'success', 'reloaded');
  proxy.proxy.server.setTicketKeys(keys);
  const seen = upstream.received.length;
  const before = await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason });
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const r = await agentGet(proxy, agent, root, chain, version);
    t.ok('error' in r, `${version}: the resumed session is refused (${JSON.stringify(r)})`);
  }
  t.equal(upstream.received.length, seen, 'the upstream received nothing');
  t.equal(
    (await metricValue(proxy, 'mtls_sidecar_tls_handshake_failures_total', { reason })) - before,
    2,
    `both counted as ${reason}`,
  );
}

t.test('intermediate revoked by the root: resumed session refused', (t) =>
  resumedAfterChange(
    t,
    {
      clientCa: (_d, root) => [root.cert],
      change: (d, root, chain, proxy) => {
        proxy.config.crl.push(makeCrl(d, root, [chain.intermediates[0]!]));
      },
    },
    'revoked',
  ),
);

t.test('leaf revoked by the intermediate (loaded too): resumed session refused', (t) =>
  resumedAfterChange(
    t,
    {
      clientCa: (_d, root, chain) => [root.cert, chain.intermediates[0]!.cert],
      change: (d, _root, chain, proxy) => {
        proxy.config.crl.push(makeCrl(d, chain.intermediates[0]!, [chain.leaf]));
      },
    },
    'revoked',
  ),
);

t.test('root removed from --client-ca: resumed session refused', (t) =>
  resumedAfterChange(
    t,
    {
      clientCa: (_d, root) => [root.cert],
      change: (d, _root, _chain, proxy) => {
        proxy.config.clientCa.splice(0, 1, makeCa(d, 'Another Root CA').cert);
      },
    },
    'unknown_ca',
  ),
);

/** Node's https.Agent session cache (internal), to hand a session made with one process to another. */
interface AgentSessions {
  _getSession(key: string): Buffer | undefined;
  _cacheSession(key: string, s: Buffer): void;
  getName(o: object): string;
}

t.test('a resumed session whose chain this process never verified is refused (fail closed)', async (t) => {
  const dir = makeTmpDir('mtls-resume-unknown-');
  const root = makeCa(dir, 'Unknown Root CA');
  const chain = makeChain(dir, 'orders', { root, intermediates: 1 });
  const pki = pkiOf(dir, root, chain.leaf);
  const upstream = await startRecordingUpstream();
  const first = await startTestProxy(baseConfig(pki, upstream.url));
  const agent = new https.Agent({ keepAlive: false });
  t.same(
    await agentGet(first, agent, root, chain, 'TLSv1.3'),
    { status: 200, resumed: false },
    'first process admits the full handshake',
  );
  const keys = first.proxy.server.getTicketKeys();
  await first.close(100);
  // Same port is not needed: the agent caches sessions by host:port and options, so point it at the new port via a new
  // cache entry.
  const second = await startTestProxy(baseConfig(pki, upstream.url));
  second.proxy.server.setTicketKeys(keys);
  t.teardown(async () => {
    agent.destroy();
    await second.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const cached = agent as unknown as AgentSessions;
  const opts = {
    host: '127.0.0.1',
    servername: 'localhost',
    ca: root.certPem,
    cert: chain.sentPem,
    key: chain.leaf.keyPem,
    maxVersion: 'TLSv1.3',
    minVersion: 'TLSv1.3',
  };
  const session = cached._getSession(cached.getName({ ...opts, port: first.port }));
  t.ok(session, 'the agent holds a session from the first process');
  cached._cacheSession(cached.getName({ ...opts, port: second.port }), session!);
  const seen = upstream.received.length;
  const r = await agentGet(second, agent, root, chain, 'TLSv1.3');
  t.ok('error' in r, `refused (${JSON.stringify(r)})`);
  t.equal(upstream.received.length, seen, 'the upstream received nothing');
  const line = second.logLines().find((l) => l.msg === 'tls connection rejected');
  t.match(line, { reason: 'unknown_ca', detail: /resumed session/ }, 'logged with a reason that says why');
  t.same(
    await agentGet(second, agent, root, chain, 'TLSv1.3'),
    { status: 200, resumed: false },
    'the next call handshakes in full and is admitted',
  );
});

t.test('a resumed session of a leaf issued by a loaded CA is judged on that CA alone', async (t) => {
  const dir = makeTmpDir('mtls-resume-direct-');
  const root = makeCa(dir, 'Direct Root CA');
  const chain = makeChain(dir, 'direct', { root, intermediates: 0 });
  const pki = pkiOf(dir, root, chain.leaf);
  const upstream = await startRecordingUpstream();
  const first = await startTestProxy(baseConfig(pki, upstream.url, { crl: [] }));
  const second = await startTestProxy(baseConfig(pki, upstream.url, { crl: [] }));
  const agent = new https.Agent({ keepAlive: false });
  t.teardown(async () => {
    agent.destroy();
    await first.close(100);
    await second.close(100);
    await upstream.close();
    pki.cleanup();
  });
  const cached = agent as unknown as AgentSessions;
  // The second process never saw this leaf: its sessions can only be judged on the loaded root.
  const keys = first.proxy.server.getTicketKeys();
  second.proxy.server.setTicketKeys(keys);
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const opts = { host: '127.0.0.1', servername: 'localhost', ca: root.certPem, cert: chain.sentPem };
    const name = (port: number) =>
      cached.getName({ ...opts, port, key: chain.leaf.keyPem, maxVersion: version, minVersion: version });
    t.same(await agentGet(first, agent, root, chain, version), { status: 200, resumed: false }, `${version}: full`);
    const session = cached._getSession(name(first.port));
    t.ok(session, `${version}: the agent holds a session from the first process`);
    cached._cacheSession(name(second.port), session!);
    const seen = upstream.received.length;
    t.same(
      await agentGet(second, agent, root, chain, version),
      { status: 200, resumed: true },
      `${version}: resumed in the second process and admitted`,
    );
    t.equal(upstream.received.length, seen + 1, `${version}: forwarded once`);
    t.match(JSON.stringify(upstream.received.at(-1)?.headers), 'spiffe://example.org/ns/prod/sa/direct');
  }
  const reusedAtGate: boolean[] = [];
  second.proxy.server.prependListener('secureConnection', (s: TLSSocket) => reusedAtGate.push(s.isSessionReused()));
  second.config.crl.push(makeCrl(dir, root, [chain.leaf]));
  t.equal(second.reload('signal'), 'success', 'reloaded with the leaf revoked');
  second.proxy.server.setTicketKeys(keys);
  const seen = upstream.received.length;
  const before = await metricValue(second, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' });
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const r = await agentGet(second, agent, root, chain, version);
    t.ok('error' in r, `${version}: the resumed session of the revoked leaf is refused (${JSON.stringify(r)})`);
  }
  t.equal(upstream.received.length, seen, 'the upstream received nothing');
  t.equal(
    (await metricValue(second, 'mtls_sidecar_tls_handshake_failures_total', { reason: 'revoked' })) - before,
    2,
    'both counted as revoked',
  );
  t.same(reusedAtGate.slice(-2), [true, true], 'the refused handshakes were resumed ones (the server says so)');
});
