// Shared set-up for policy tests: a SPIFFE-style policy file, an ops caller and a workload caller, the proxy in front
// of a recording upstream.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../../src/config/types.js';
import { makeLeaf, type CertFiles } from '../../helpers/pki.js';
import {
  baseConfig,
  makeTestPki,
  rawTlsExchange,
  startRecordingUpstream,
  startTestProxy,
  type RecordingUpstream,
  type TestPki,
  type TestProxy,
} from '../../helpers/gate-harness.js';

export const SPIFFE_POLICY = `# Only the ops console may use /admin; GET-only reports; anyone verified may probe /healthz.
routes:
  - path: /admin
    allow:
      - uri: spiffe://example.org/ns/ops/sa/console
  - path: /reports
    methods: [GET]
    allow:
      - uri: spiffe://example.org/ns/prod/*
  - path: /healthz
    allow: any-verified
default:
  allow:
    - uri: spiffe://example.org/ns/prod/*
`;

export const NO_FLAGS: Config['allow'] = {
  cn: [],
  ou: [],
  o: [],
  dns: [],
  uri: [],
  email: [],
  serial: [],
  fingerprint: [],
  subject: [],
};

export interface PolicyRig {
  pki: TestPki;
  /** spiffe://example.org/ns/prod/sa/orders: admitted by the default, not by /admin. */
  orders: CertFiles;
  /** spiffe://example.org/ns/ops/sa/console: admitted by /admin only. */
  ops: CertFiles;
  policyFile: string;
  upstream: RecordingUpstream;
  proxy: TestProxy;
  /** Sends `request` bytes exactly as given over a fresh TLS connection as `caller`; returns the status (0: none). */
  send(caller: CertFiles, request: string): Promise<{ status: number; raw: string }>;
  close(): Promise<void>;
}

export async function startPolicyRig(policyText = SPIFFE_POLICY, overrides: Partial<Config> = {}): Promise<PolicyRig> {
  const pki = makeTestPki();
  const ops = makeLeaf(pki.dir, 'console', pki.ca, {
    subject: '/O=Acme/OU=ops/CN=console',
    san: ['URI:spiffe://example.org/ns/ops/sa/console'],
  });
  const policyFile = join(pki.dir, 'policy.yaml');
  writeFileSync(policyFile, policyText);
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(
    baseConfig(pki, upstream.url, { allow: NO_FLAGS, policy: policyFile, ...overrides }),
  );
  return {
    pki,
    orders: pki.client,
    ops,
    policyFile,
    upstream,
    proxy,
    async send(caller, request) {
      const r = await rawTlsExchange({
        port: proxy.port,
        ca: pki.ca.certPem,
        cert: caller.certPem,
        key: caller.keyPem,
        payload: request,
      });
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(r.received);
      return { status: m ? Number(m[1]) : 0, raw: r.received };
    },
    async close() {
      await proxy.close(100);
      await upstream.close();
      pki.cleanup();
    },
  };
}
