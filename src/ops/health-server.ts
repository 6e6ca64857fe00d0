// The plain-HTTP operations listener: /metrics (Prometheus text), /healthz (liveness), /readyz (readiness).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Readiness } from './readiness.js';

/** Where /metrics text comes from: a prom-client Registry, or the primary's aggregation across --workers. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface HealthServer {
  host: string;
  port: number;
  /** True when the configured port was busy and another was taken (`fallbackWhenBusy`). */
  fellBack?: boolean;
  close(): Promise<void>;
}

function reply(
  res: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function createHandler(deps: { registry: MetricsSource; readiness: Readiness; log: Logger }) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Only the path matters: probes that add a query string (`/readyz?verbose`) get the same answer.
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, 405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      reply(res, 200, 'ok\n');
      return;
    }
    if (path === '/readyz') {
      const reasons = deps.readiness.notReadyReasons();
      if (reasons.length === 0) reply(res, 200, 'ready\n');
      else reply(res, 503, `not ready: ${reasons.join(', ')}\n`);
      return;
    }
    if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => reply(res, 200, text, deps.registry.contentType),
        (err: Error) => {
          deps.log.error({ err: err.message }, 'collecting metrics failed');
          reply(res, 500, 'metrics unavailable\n');
        },
      );
      return;
    }
    reply(res, 404, 'not found: try /metrics, /healthz or /readyz\n');
  };
}

function listenOn(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on `--metrics-listen`; a bind failure is a configuration error naming the flag. With `fallbackWhenBusy`
 * (`dev` on its default port), a port already in use is replaced by a free one on the same host, and logged.
 */
export async function startHealthServer(
  listen: HostPort,
  deps: { registry: MetricsSource; readiness: Readiness; log: Logger },
  options: { fallbackWhenBusy?: boolean } = {},
): Promise<HealthServer> {
  const server = http.createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    createHandler(deps),
  );
  let fellBack = false;
  try {
    try {
      await listenOn(server, listen.port, listen.host);
    } catch (err) {
      if (options.fallbackWhenBusy !== true || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      await listenOn(server, 0, listen.host);
      fellBack = true;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([
      `--metrics-listen ${listen.host}:${listen.port}: cannot listen (${code}); pick a free port, or write --metrics-listen off`,
    ]);
  }
  const address = server.address() as AddressInfo;
  if (fellBack)
    deps.log.warn(
      { wanted: `${listen.host}:${listen.port}`, metricsListen: `${address.address}:${address.port}` },
      'metrics port in use: took a free one',
    );
  deps.log.info({ metricsListen: `${address.address}:${address.port}` }, 'metrics and probes listening');
  return {
    host: address.address,
    port: address.port,
    fellBack,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
