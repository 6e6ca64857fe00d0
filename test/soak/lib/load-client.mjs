// Lean HTTP/1.1-over-TLS load generator: N keep-alive connections, one request at a time each, every response checked
// against its token.
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { parseResponses } from './http1-parse.mjs';

/** Per-request outcome codes stored in `records.status` besides real HTTP statuses. */
export const NOT_SENT = 0;
export const LOST = 1; // the connection closed before any byte of the response
export const TRUNCATED = 2; // the response started but never completed

/** Body the token upstream answers with; the client compares it byte for byte. */
export function expectedBody(id, path) {
  return `tok=${id};path=${path}`;
}

/**
 * Runs load until `requests` ids are used up, `durationMs` passes, or `signal` aborts. Ids are global and
 * handed out in order, so the upstream can count each one; `records` (when asked) keeps start/end/status per id.
 */
export async function runLoad(o) {
  const host = o.host ?? '127.0.0.1';
  const limit = o.requests ?? Number.MAX_SAFE_INTEGER;
  const deadline = o.durationMs === undefined ? Infinity : performance.now() + o.durationMs;
  const pathOf = o.pathOf ?? ((id) => `/load/${id}`);
  const capacity = o.record ? (o.requests ?? o.recordCapacity ?? 1 << 20) : 0;
  const records = o.record
    ? { start: new Float64Array(capacity), end: new Float64Array(capacity), status: new Uint16Array(capacity) }
    : undefined;
  // A caller-supplied object is filled in place, so a long run can be watched while it goes.
  const report = Object.assign(o.report ?? {}, {
    sent: 0,
    completed: 0,
    ok: 0,
    byStatus: {},
    mismatched: 0,
    mismatchSamples: [],
    lost: 0,
    truncated: 0,
    connects: 0,
    connectErrors: 0,
    elapsedMs: 0,
    maxLatencyMs: 0,
    latencySumMs: 0,
  });
  let nextId = o.firstId ?? 0;
  const endId = (o.firstId ?? 0) + limit;
  const t0 = performance.now();
  const stopped = () => nextId >= endId || performance.now() >= deadline || o.signal?.aborted === true;

  const runConnection = async () => {
    let failuresInARow = 0;
    while (!stopped()) {
      const outcome = await driveOneConnection();
      if (outcome === 'connect-failed') {
        failuresInARow += 1;
        // Bounded back-off: a proxy that is down must not turn this loop into a spin.
        await new Promise((r) => setTimeout(r, Math.min(200, 10 * failuresInARow)));
        if (o.stopOnConnectError) return;
      } else failuresInARow = 0;
      if (o.reconnect === false) return;
    }
  };

  const driveOneConnection = () =>
    new Promise((resolve) => {
      let current; // { id, path, t }
      let established = false;
      let settled = false;
      const socket = tls.connect({
        host,
        port: o.port,
        servername: o.servername ?? 'localhost',
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        minVersion: o.minVersion,
        maxVersion: o.maxVersion,
        session: o.session,
      });
      socket.setNoDelay(true);
      const parser = parseResponses(
        (res) => {
          if (!current) {
            report.mismatched += 1;
            return;
          }
          const done = current;
          current = undefined;
          finish(done, res.status);
          const want = expectedBody(done.id, done.path);
          if (res.status >= 200 && res.status < 300) {
            if (res.body.toString('latin1') !== want) {
              report.mismatched += 1;
              if (report.mismatchSamples.length < 5)
                report.mismatchSamples.push({ id: done.id, got: res.body.toString('latin1').slice(0, 120) });
            } else report.ok += 1;
          } else o.onErrorResponse?.(done.id, res.status, res.body.toString('latin1'));
          // A client that sent `Connection: close` must not reuse the connection, whatever the reply says.
          if (res.close || o.connectionClose) {
            socket.end();
            return;
          }
          sendNext();
        },
        () => {
          report.mismatched += 1;
          socket.destroy();
        },
      );

      const finish = (req, status) => {
        const now = performance.now();
        const latency = now - req.t;
        report.completed += 1;
        report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
        report.latencySumMs += latency;
        if (latency > report.maxLatencyMs) report.maxLatencyMs = latency;
        if (records && req.id < capacity) {
          records.end[req.id] = now - t0;
          records.status[req.id] = status;
        }
      };

      const sendNext = () => {
        if (stopped()) {
          socket.end();
          return;
        }
        const id = nextId++;
        const path = pathOf(id);
        const now = performance.now();
        current = { id, path, t: now };
        if (records && id < capacity) records.start[id] = now - t0;
        report.sent += 1;
        const body = o.body ?? '';
        const head =
          `${o.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: localhost\r\nx-token: ${id}\r\n` +
          (o.connectionClose ? 'Connection: close\r\n' : '') +
          (body.length > 0 || o.method === 'POST' ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '') +
          '\r\n';
        socket.write(body.length > 0 ? head + body : head);
      };

      socket.on('secureConnect', () => {
        established = true;
        report.connects += 1;
        sendNext();
      });
      socket.on('data', (chunk) => parser.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        if (settled) return;
        settled = true;
        if (current) {
          const code = parser.midResponse() ? TRUNCATED : LOST;
          if (code === LOST) report.lost += 1;
          else report.truncated += 1;
          const req = current;
          current = undefined;
          if (records && req.id < capacity) {
            records.end[req.id] = performance.now() - t0;
            records.status[req.id] = code;
          }
          o.onConnectionLoss?.(req.id, code);
        }
        if (!established) report.connectErrors += 1;
        resolve(established ? 'closed' : 'connect-failed');
      });
    });

  await Promise.all(Array.from({ length: o.connections }, () => runConnection()));
  report.elapsedMs = performance.now() - t0;
  return { report, records, t0 };
}
