// Shared set-up for the reliability tests: an openssl PKI, the built CLI as a child process, a token upstream, the
// scale knob.
import { readFileSync } from 'node:fs';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from '../../helpers/pki.js';
import {
  proxyArgs,
  startProxyProcess,
  startTokenUpstream,
  type ProxyProcess,
  type TokenUpstream,
} from '../../soak/lib/processes.mjs';

/** MTLS_RELIABILITY_SCALE multiplies every count (default 1: the bounded `npm test` variant). */
export function reliabilityScale(): number {
  const raw = Number(process.env.MTLS_RELIABILITY_SCALE ?? '1');
  return Number.isFinite(raw) && raw > 0 ? raw : 1;
}

export function scaled(base: number): number {
  return Math.max(1, Math.round(base * reliabilityScale()));
}

export interface ReliabilityPki {
  dir: string;
  ca: CertFiles;
  server: CertFiles;
  /** Authorized caller (URI SAN under spiffe://example.org/ns/prod/). */
  client: CertFiles;
  caPem: string;
  cleanup(): void;
}

export const ALLOW_PROD = ['--allow-uri', 'spiffe://example.org/ns/prod/*'];

export function makeReliabilityPki(prefix = 'mtls-rel-'): ReliabilityPki {
  const dir = makeTmpDir(prefix);
  const ca = makeCa(dir, 'Reliability Root CA');
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const client = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme/OU=payments/CN=orders',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders'],
  });
  return { dir, ca, server, client, caPem: readFileSync(ca.cert, 'utf8'), cleanup: () => removeDir(dir) };
}

/** TLS options of the authorized caller, for runLoad and raw sockets. */
export function clientTls(pki: ReliabilityPki, who: CertFiles = pki.client): { ca: string; cert: string; key: string } {
  return { ca: pki.caPem, cert: who.certPem, key: who.keyPem };
}

export interface Stack {
  pki: ReliabilityPki;
  upstream: TokenUpstream;
  proxy: ProxyProcess;
}

/**
 * Token upstream + proxy child process in front of it; `extra` are more CLI flags, `nodeArgs` Node flags for the
 * proxy.
 */
export async function startStack(
  pki: ReliabilityPki,
  extra: string[] = [],
  upstreamCapacity?: number,
  nodeArgs: string[] = [],
): Promise<Stack> {
  const upstream = await startTokenUpstream(upstreamCapacity === undefined ? {} : { capacity: upstreamCapacity });
  const proxy = await startProxyProcess({
    args: proxyArgs({
      upstream: upstream.url,
      cert: pki.server.cert,
      key: pki.server.key,
      clientCa: pki.ca.cert,
      extra: [...ALLOW_PROD, ...extra],
    }),
    nodeArgs,
  });
  return { pki, upstream, proxy };
}

export async function stopStack(stack: Stack): Promise<void> {
  await stack.proxy.stop('SIGKILL', 2000);
  await stack.upstream.kill();
}

export function formatKb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`;
}
