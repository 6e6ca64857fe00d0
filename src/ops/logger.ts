// The process logger: pino JSON to stdout, written asynchronously so logging never blocks the request path.
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/types.js';

/** Access lines wait at most this long in the buffer (they are flushed sooner once 4 KiB have gathered). */
const ACCESS_FLUSH_MS = 1000;
const ACCESS_BATCH_BYTES = 4096;

const kAccessLogger = Symbol('mtls-sidecar.access-logger');

type LoggerWithAccess = Logger & { [kAccessLogger]?: Logger };

/**
 * The logger, and beside it (see accessLoggerOf) the one access lines go through. On a file descriptor both share
 * one buffered stream: access lines are written in batches of 4 KiB or every second, while every other line
 * writes out at once, together with whatever access lines are waiting before it, so the order holds.
 */
export function createLogger(level: Config['logLevel'], destination: number | NodeJS.WritableStream = 1): Logger {
  const common: LoggerOptions = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (typeof destination !== 'number') {
    const log: LoggerWithAccess = pino({ ...common, redact: REDACT }, destination);
    log[kAccessLogger] = pino(common, destination);
    return log;
  }
  // pino flushes this stream synchronously on process exit, so an exit right after a line still writes it.
  const stream = pino.destination({ dest: destination, sync: false, minLength: ACCESS_BATCH_BYTES, periodicFlush: ACCESS_FLUSH_MS });
  const log: LoggerWithAccess = pino(
    {
      ...common,
      redact: REDACT,
      hooks: {
        logMethod(args, method) {
          method.apply(this, args);
          // Operator-facing lines (start, reload, rejections, shutdown) must not wait for a batch to fill.
          try {
            stream.flush();
          } catch {
            // Destroyed (the process is ending): the line was dropped by pino already, nothing to add.
          }
        },
      },
    },
    stream,
  );
  log[kAccessLogger] = pino(common, stream);
  return log;
}

// Defence in depth: none of these are ever logged on purpose. Access lines skip it: their entry type has no such
// field, and redaction cost about 4 µs per line, a third of the line's cost.
const REDACT = { paths: ['authorization', 'cookie', '*.authorization', '*.cookie', 'key', 'cert'], censor: '[redacted]' };

/** The logger for access lines of `log` (batched, no redaction) or `log` itself when it was not made by createLogger. */
export function accessLoggerOf(log: Logger): Logger {
  return (log as LoggerWithAccess)[kAccessLogger] ?? log;
}
