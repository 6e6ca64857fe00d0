// gRPC test harness: the shop.v1 proto loaded with @grpc/proto-loader, a recording @grpc/grpc-js upstream, mTLS
// clients and call helpers.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CertFiles } from '../../helpers/pki.js';
import { baseConfig, makeTestPki, startTestProxy, type TestPki, type TestProxy } from '../../helpers/gate-harness.js';
import type { Config } from '../../../src/config/types.js';
import { poll } from '../../helpers/wait-for.js';

export const PROTO_PATH = fileURLToPath(new URL('../fixtures/shop.proto', import.meta.url));

export interface Order {
  id: string;
  note: string;
  payload: Buffer;
}

type ClientCtor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => grpc.Client;

interface ShopPackage {
  Orders: ClientCtor & { service: grpc.ServiceDefinition };
  Admin: ClientCtor & { service: grpc.ServiceDefinition };
}

export function loadShop(): ShopPackage {
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true });
  const root = grpc.loadPackageDefinition(def) as unknown as { shop: { v1: ShopPackage } };
  return root.shop.v1;
}

/** What the upstream saw of one call. */
export interface SeenCall {
  method: string;
  metadata: grpc.Metadata;
  deadline: grpc.Deadline;
  /** Date.now() when the upstream's handler ran: after grpc-js fixed the call's deadline from grpc-timeout. */
  receivedAt: number;
  cancelled: boolean;
}

export interface GrpcUpstream {
  port: number;
  url: string;
  calls: SeenCall[];
  server: grpc.Server;
  close(): Promise<void>;
}

type Handlers = Record<string, grpc.UntypedHandleCall>;

/** The part of every grpc-js server call the recorder reads. */
type AnyServerCall = {
  metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
};

function record(calls: SeenCall[], method: string, call: AnyServerCall): SeenCall {
  const seen: SeenCall = {
    method,
    metadata: call.metadata,
    deadline: call.getDeadline(),
    receivedAt: Date.now(),
    cancelled: false,
  };
  call.on('cancelled', () => {
    seen.cancelled = true;
  });
  calls.push(seen);
  return seen;
}

/** The default shop implementation; `overrides` replace single methods (they are still recorded). */
function defaultOrders(calls: SeenCall[], overrides: Handlers): Handlers {
  const handlers: Handlers = {
    GetOrder: (call: grpc.ServerUnaryCall<{ id: string }, Order>, cb: grpc.sendUnaryData<Partial<Order>>) => {
      const { id } = call.request;
      if (id === 'missing') {
        // Headers first, then the status in trailers (not trailers-only).
        const md = new grpc.Metadata();
        md.set('x-lookup', 'done');
        call.sendMetadata(md);
        const trailer = new grpc.Metadata();
        trailer.set('x-reason', 'not-in-db');
        cb({ code: grpc.status.NOT_FOUND, details: 'no such order', metadata: trailer });
        return;
      }
      if (id === 'gone') {
        cb({ code: grpc.status.FAILED_PRECONDITION, details: 'order was archived' }); // nothing sent before: trailers-only
        return;
      }
      const size = Number(/^big-(\d+)$/.exec(id)?.[1] ?? 0);
      cb(null, { id, note: `order ${id}`, payload: Buffer.alloc(size, 7) });
    },
    WatchOrders: (call: grpc.ServerWritableStream<{ count: number; gap_ms: number }, Order>) => {
      const { count, gap_ms: gap } = call.request;
      let i = 0;
      const next = (): void => {
        if (call.cancelled) return;
        if (i >= count) {
          call.end();
          return;
        }
        call.write({ id: String(i), note: 'tick', payload: Buffer.alloc(0) });
        i += 1;
        setTimeout(next, gap);
      };
      setTimeout(next, gap);
    },
    UploadOrders: (
      call: grpc.ServerReadableStream<Order, unknown>,
      cb: grpc.sendUnaryData<{ count: number; bytes: number }>,
    ) => {
      let count = 0;
      let bytes = 0;
      call.on('data', (o: Order) => {
        count += 1;
        bytes += o.payload.length;
      });
      call.on('end', () => cb(null, { count, bytes }));
    },
    Chat: (call: grpc.ServerDuplexStream<Order, Order>) => {
      call.on('data', (o: Order) => call.write({ id: o.id, note: `echo ${o.note}`, payload: o.payload }));
      call.on('end', () => call.end());
    },
    ...overrides,
  };
  const wrapped: Handlers = {};
  for (const [name, fn] of Object.entries(handlers)) {
    wrapped[name] = ((call: AnyServerCall, cb?: unknown) => {
      record(calls, name, call);
      (fn as (c: unknown, cb?: unknown) => void)(call, cb);
    }) as unknown as grpc.UntypedHandleCall;
  }
  return wrapped;
}

export async function startGrpcUpstream(
  opts: { orders?: Handlers; admin?: Handlers; credentials?: grpc.ServerCredentials; address?: string } = {},
): Promise<GrpcUpstream> {
  const shop = loadShop();
  const calls: SeenCall[] = [];
  const server = new grpc.Server();
  server.addService(shop.Orders.service, defaultOrders(calls, opts.orders ?? {}));
  const adminHandlers: Handlers = {
    Purge: (call: grpc.ServerUnaryCall<{ id: string }, Order>, cb: grpc.sendUnaryData<Partial<Order>>) => {
      record(calls, 'Purge', call);
      cb(null, { id: call.request.id, note: 'purged' });
    },
    ...(opts.admin ?? {}),
  };
  server.addService(shop.Admin.service, adminHandlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      opts.address ?? '127.0.0.1:0',
      opts.credentials ?? grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    calls,
    server,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

export interface ShopClients {
  orders: DynamicClient;
  admin: DynamicClient;
  close(): void;
}

/** A generated client seen as a bag of methods (grpc-js builds them at run time). */
export type DynamicClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** Clients of the proxy's mTLS listener, presenting `client` (default: the allowed "orders" certificate). */
export function connectShop(
  port: number,
  pki: TestPki,
  client: CertFiles | null = pki.client,
  extra: grpc.ChannelOptions = {},
): ShopClients {
  const shop = loadShop();
  const creds = grpc.credentials.createSsl(
    Buffer.from(pki.ca.certPem),
    client ? Buffer.from(client.keyPem) : null,
    client ? Buffer.from(client.certPem) : null,
  );
  const options: grpc.ChannelOptions = {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.default_authority': 'localhost',
    ...extra,
  };
  const orders = new shop.Orders(`127.0.0.1:${port}`, creds, options) as DynamicClient;
  const admin = new shop.Admin(`127.0.0.1:${port}`, creds, options) as DynamicClient;
  return {
    orders,
    admin,
    close() {
      orders.close();
      admin.close();
    },
  };
}

export interface UnaryOutcome<T> {
  value?: T;
  error?: grpc.ServiceError;
  headers?: grpc.Metadata;
  status: grpc.StatusObject;
}

/** One unary call; resolves on its final status, never rejects. */
export function callUnary<T>(
  client: DynamicClient,
  method: string,
  request: unknown,
  o: { metadata?: grpc.Metadata; deadline?: grpc.Deadline } = {},
): Promise<UnaryOutcome<T>> {
  return new Promise((resolve) => {
    const out: Partial<UnaryOutcome<T>> = {};
    let done = 0;
    const finish = (): void => {
      done += 1;
      if (done === 2) resolve(out as UnaryOutcome<T>);
    };
    const fn = client[method];
    if (!fn) throw new Error(`no method ${method}`);
    const call = fn.call(
      client,
      request,
      o.metadata ?? new grpc.Metadata(),
      { deadline: o.deadline },
      (err: grpc.ServiceError | null, value?: T) => {
        if (err) out.error = err;
        else out.value = value;
        finish();
      },
    ) as grpc.ClientUnaryCall;
    call.on('metadata', (md: grpc.Metadata) => {
      out.headers = md;
    });
    call.on('status', (s: grpc.StatusObject) => {
      out.status = s;
      finish();
    });
  });
}

/** Collects a server stream until its status. */
export function collectStream<T>(
  call: grpc.ClientReadableStream<T>,
): Promise<{ items: T[]; status: grpc.StatusObject; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const items: T[] = [];
    let error: grpc.ServiceError | undefined;
    call.on('data', (item: T) => items.push(item));
    call.on('error', (err: grpc.ServiceError) => {
      error = err;
    });
    call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ items, status, error })));
  });
}

/** Polls `check` every 20 ms for up to `ms`; bounded, for events that land asynchronously. */
export async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  return poll(check, { timeoutMs: ms });
}

export interface GrpcStack {
  pki: TestPki;
  upstream: GrpcUpstream;
  proxy: TestProxy;
  shop: ShopClients;
}

type GrpcStackOptions = { upstream?: Parameters<typeof startGrpcUpstream>[0]; config?: Partial<Config> };

/**
 * The usual gRPC test stack: PKI, a grpc-js upstream, the proxy in front of it, a client; torn down with `t`.
 * Options that need the PKI's directory (a unix socket path) can be given as a function of it.
 */
export async function startGrpcStack(
  t: { teardown(fn: () => unknown): void },
  options: GrpcStackOptions | ((pki: TestPki) => GrpcStackOptions) = {},
): Promise<GrpcStack> {
  const pki = makeTestPki();
  const opts = typeof options === 'function' ? options(pki) : options;
  const upstream = await startGrpcUpstream(opts.upstream);
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, opts.config));
  const shop = connectShop(proxy.port, pki);
  t.teardown(async () => {
    shop.close();
    await proxy.close(100);
    await upstream.close();
    pki.cleanup();
  });
  return { pki, upstream, proxy, shop };
}
