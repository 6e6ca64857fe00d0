// Real-socket harness for gate tests: an openssl-made PKI, a recording upstream, the proxy in-process, TLS clients.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Config } from '../../src/config/types.js';
import { startProxy, type RunningProxy } from '../../src/lifecycle/start-proxy.js';
import { makeCa, makeLeaf, makeTmpDir, removeDir, type CertFiles } from './pki.js';

export interface TestPki {
  dir: string;
  ca: CertFiles;
  server: CertFiles;
  client: CertFiles;
  cleanup(): void;
}

export function makeTestPki(): TestPki {
  const dir = makeTmpDir('mtls-gate-');
  const ca = makeCa(dir, 'Test Root CA');
  const server = makeLeaf(dir, 'server', ca, {
    subject: '/CN=localhost',
    san: ['DNS:localhost', 'IP:127.0.0.1'],
    eku: 'serverAuth',
  });
  const client = makeLeaf(dir, 'orders', ca, {
    subject: '/O=Acme/OU=payments/CN=orders',
    san: ['URI:spiffe://example.org/ns/prod/sa/orders', 'DNS:orders.example.org'],
  });
  return { dir, ca, server, client, cleanup: () => removeDir(dir) };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  /** Header names and values exactly as they arrived on the wire, in order. */
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RecordingUpstream {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Optional override of the reply. */
  handler?: (req: ReceivedRequest, res: http.ServerResponse) => void;
  close(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const upstream: Partial<RecordingUpstream> & { received: ReceivedRequest[] } = { received: [] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      upstream.received.push(rec);
      if (upstream.handler) return upstream.handler(rec, res);
      const body = JSON.stringify({
        method: rec.method,
        url: rec.url,
        headers: rec.headers,
        bodyLength: rec.body.length,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  upstream.url = `http://127.0.0.1:${port}`;
  upstream.port = port;
  upstream.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return upstream as RecordingUpstream;
}

/** Header values the upstream received for `name` (case-insensitive), in wire order. */
export function rawHeaderValues(req: ReceivedRequest, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] ?? '').toLowerCase() === name.toLowerCase()) out.push(req.rawHeaders[i + 1] ?? '');
  }
  return out;
}

export function baseConfig(pki: TestPki, upstreamUrl: string, overrides: Partial<Config> = {}): Config {
  const url = new URL(upstreamUrl);
  return {
    listen: { host: '127.0.0.1', port: 0 },
    upstream: {
      kind: url.protocol === 'https:' ? 'https' : 'http',
      url,
      host: url.hostname,
      port: Number(url.port),
      origin: url.origin,
    },
    upstreamProtocol: 'http1',
    cert: pki.server.cert,
    key: pki.server.key,
    clientCa: [pki.ca.cert],
    crl: [],
    allow: {
      cn: [],
      ou: [],
      o: [],
      dns: [],
      uri: ['spiffe://example.org/ns/prod/*'],
      email: [],
      serial: [],
      fingerprint: [],
      subject: [],
    },
    allowAnyVerified: false,
    metricsListen: null,
    minTlsVersion: 'TLSv1.2',
    forwardCert: false,
    stripHeaders: new Set(),
    upstreamTimeoutMs: 5000,
    handshakeTimeoutMs: 5000,
    headersTimeoutMs: 5000,
    idleTimeoutMs: 10_000,
    requestTimeoutMs: 300_000,
    reloadIntervalMs: 60_000,
    shutdownGraceMs: 2000,
    workers: 1,
    limits: {
      maxConnections: 512,
      maxHandshakes: 128,
      maxConcurrentStreams: 100,
      upstreamMaxConnections: 512,
      upstreamStreamsPerConnection: 50,
    },
    allowInsecurePosture: true,
    logLevel: 'info',
    ...overrides,
  };
}

export interface TestProxy extends RunningProxy {
  logLines: () => Array<Record<string, unknown>>;
}

export async function startTestProxy(config: Config): Promise<TestProxy> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0),
      );
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const running = await startProxy(config, { log });
  return Object.assign(running, { logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) });
}

export interface GateStack {
  pki: TestPki;
  upstream: RecordingUpstream;
  proxy: TestProxy;
}

/** The usual stack of a gate test (test PKI, recording upstream, in-process proxy), torn down with the test. */
export async function startGateStack(
  t: { teardown(fn: () => unknown): void },
  overrides: Partial<Config> = {},
): Promise<GateStack> {
  const pki = makeTestPki();
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, overrides));
  t.teardown(async () => {
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  return { pki, upstream, proxy };
}

export interface ClientOptions {
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  maxVersion?: tls.SecureVersion;
  agent?: https.Agent | false;
}

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request with an optional client certificate; rejects on a connection-level failure. */
export function httpsRequest(o: ClientOptions): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: o.port,
        servername: 'localhost',
        path: o.path ?? '/',
        method: o.method ?? 'GET',
        headers: o.headers,
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        maxVersion: o.maxVersion,
        agent: o.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/**
 * Opens a TLS connection, writes `payload` once the handshake completes, and collects everything the server
 * sends until it closes (or `timeoutMs`). `handshake` tells whether the client saw the handshake finish.
 */
export function rawTlsExchange(o: {
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  payload: string | Buffer;
  maxVersion?: tls.SecureVersion;
  minVersion?: tls.SecureVersion;
  timeoutMs?: number;
}): Promise<{ handshake: boolean; received: string; error?: string }> {
  return new Promise((resolve) => {
    let handshake = false;
    let error: string | undefined;
    const chunks: Buffer[] = [];
    const socket = tls.connect({
      host: '127.0.0.1',
      port: o.port,
      servername: 'localhost',
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      maxVersion: o.maxVersion,
      minVersion: o.minVersion,
    });
    const timer = setTimeout(() => socket.destroy(), o.timeoutMs ?? 3000);
    socket.on('secureConnect', () => {
      handshake = true;
      socket.write(o.payload);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: Error & { code?: string }) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ handshake, received: Buffer.concat(chunks).toString('latin1'), error });
    });
  });
}

/** Value of one labelled sample of a metric, 0 when absent. */
export async function metricValue(
  proxy: RunningProxy,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = proxy.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  const sample = data.values.find((v) =>
    Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
  );
  return sample?.value ?? 0;
}
