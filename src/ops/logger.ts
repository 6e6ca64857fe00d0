// The process logger: pino JSON to stdout, written asynchronously so logging never blocks the request path.
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/types.js';

/** Access lines wait at most this long before they are written (sooner once 16 KiB have gathered). */
const ACCESS_FLUSH_MS = 1000;
const ACCESS_BATCH_CHARS = 16_384;

const kAccessSink = Symbol('mtls-sidecar.access-sink');

/** Where finished access lines (see access-log.ts) are written. */
export type AccessSink = (line: string) => void;

type LoggerWithAccess = Logger & { [kAccessSink]?: AccessSink };

/**
 * Gathers access lines and hands them to the shared stream in batches: each write call into the stream costs a few
 * µs whatever its size, which made the stream the largest part of an access line's cost when every line went alone.
 */
class AccessBatch {
  private pending = '';

  constructor(private readonly stream: ReturnType<typeof pino.destination>) {}

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= ACCESS_BATCH_CHARS) this.flush();
  }

  flush(): void {
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    try {
      this.stream.write(lines);
    } catch {
      // Destroyed (the process is ending): nothing left to write to.
    }
  }
}

function flushStream(stream: ReturnType<typeof pino.destination>): void {
  try {
    stream.flush();
  } catch {
    // Not open yet, or destroyed (the process is ending): pino writes or drops the line itself.
  }
}

/** Every batch still open, flushed once at exit before pino flushes the streams themselves. */
const openBatches = new Set<AccessBatch>();
let exitHookInstalled = false;

function trackBatch(batch: AccessBatch): void {
  openBatches.add(batch);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Prepended: pino's own exit handler flushes the stream synchronously, and these lines must be in it by then.
  process.prependListener('exit', () => {
    for (const b of openBatches) b.flush();
  });
}

/**
 * The logger, and beside it (see accessSinkOf) where access lines go. On a file descriptor both share
 * one buffered stream: access lines are gathered and written in batches of 16 KiB or every second, while every
 * other line first pushes out the access lines gathered before it and then writes at once, so the order holds.
 */
export function createLogger(level: Config['logLevel'], destination: number | NodeJS.WritableStream = 1): Logger {
  const common: LoggerOptions = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (typeof destination !== 'number') {
    const log: LoggerWithAccess = pino({ ...common, redact: REDACT }, destination);
    log[kAccessSink] = (line) => {
      destination.write(line);
    };
    return log;
  }
  // pino flushes this stream synchronously on process exit, so an exit right after a line still writes it.
  const stream = pino.destination({ dest: destination, sync: false, minLength: 4096 });
  const batch = new AccessBatch(stream);
  trackBatch(batch);
  setInterval(() => {
    batch.flush();
    flushStream(stream);
  }, ACCESS_FLUSH_MS).unref();
  const log: LoggerWithAccess = pino(
    {
      ...common,
      redact: REDACT,
      hooks: {
        logMethod(args, method) {
          batch.flush();
          method.apply(this, args);
          // Operator-facing lines (start, reload, rejections, shutdown) must not wait for a batch to fill.
          flushStream(stream);
        },
      },
    },
    stream,
  );
  log[kAccessSink] = (line) => batch.write(line);
  return log;
}

// Defence in depth: none of these are ever logged on purpose. Access lines skip it: they are built field by field
// from a fixed entry type that has no such field.
const REDACT = { paths: ['authorization', 'cookie', '*.authorization', '*.cookie', 'key', 'cert'], censor: '[redacted]' };

/** The access-line sink of a logger made by createLogger (batched on a file descriptor), else undefined. */
export function accessSinkOf(log: Logger): AccessSink | undefined {
  return (log as LoggerWithAccess)[kAccessSink];
}
