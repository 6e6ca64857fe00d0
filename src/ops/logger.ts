// The process logger: pino JSON to stdout, written asynchronously so logging never blocks the request path.
import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config/types.js';

/** Access lines wait at most this long before they are written (sooner once a batch has filled). */
const ACCESS_FLUSH_MS = 1000;
const ACCESS_BATCH_BYTES = 65_536;

const kAccessSink = Symbol('mtls-sidecar.access-sink');

/** Where finished access lines (see access-log.ts) are written. */
export type AccessSink = (line: string) => void;

type LoggerWithAccess = Logger & { [kAccessSink]?: AccessSink };

type Destination = ReturnType<typeof pino.destination>;

/**
 * Gathers access lines as UTF-8 bytes and hands them to the shared stream 64 KiB at a time. Each write into the
 * stream has a fixed cost of several µs, and a string batch costs more again (the stream measures and re-encodes
 * it): bytes written once into one buffer were about half the CPU per line in a microbenchmark.
 */
class AccessBatch {
  private buffer = Buffer.allocUnsafe(ACCESS_BATCH_BYTES);
  private used = 0;

  constructor(
    private readonly stream: Destination,
    private readonly fd: number,
  ) {}

  write(line: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    if (this.used + line.length * 3 > ACCESS_BATCH_BYTES) {
      this.flush();
      if (line.length * 3 > ACCESS_BATCH_BYTES) {
        this.send(Buffer.from(line, 'utf8'));
        return;
      }
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
  }

  flush(): void {
    const bytes = this.take();
    if (bytes !== null) this.send(bytes);
  }

  /**
   * At exit, when no asynchronous write will run any more: the stream's queue (older lines) and then the batch,
   * both written synchronously. Handing the batch to the stream instead could start an asynchronous write that the
   * stream's own exit flush skips as "in progress", and that never runs when the thread pool is busy.
   */
  writeOutAtExit(): void {
    try {
      this.stream.flushSync();
    } catch {
      // Destroyed or not open: nothing queued there can be written any more.
    }
    const bytes = this.take();
    if (bytes !== null) writeAllSync(this.fd, bytes);
  }

  /** The gathered bytes, and an empty batch. A small batch is copied so the stream does not hold 64 KiB for it. */
  private take(): Buffer | null {
    if (this.used === 0) return null;
    const full = this.used >= ACCESS_BATCH_BYTES / 4;
    const bytes = full ? this.buffer.subarray(0, this.used) : Buffer.from(this.buffer.subarray(0, this.used));
    if (full) this.buffer = Buffer.allocUnsafe(ACCESS_BATCH_BYTES);
    this.used = 0;
    return bytes;
  }

  private send(bytes: Buffer): void {
    try {
      // SonicBoom in contentMode 'buffer' writes Buffers; its type declares only strings.
      this.stream.write(bytes as unknown as string);
    } catch {
      // Destroyed (the process is ending): nothing left to write to.
    }
  }
}

const EXIT_WRITE_RETRIES = 2000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `bytes`, waiting 1 ms at a time (2 s at most) while a non-blocking descriptor is full. */
function writeAllSync(fd: number, bytes: Buffer): void {
  let rest = bytes;
  let retries = 0;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || retries++ >= EXIT_WRITE_RETRIES) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function flushStream(stream: Destination): void {
  try {
    stream.flush();
  } catch {
    // Not open yet, or destroyed (the process is ending): pino writes or drops the line itself.
  }
}

/** Every batch still open, written out once at exit before pino flushes the streams themselves. */
const openBatches = new Set<AccessBatch>();
let exitHookInstalled = false;

function trackBatch(batch: AccessBatch): void {
  openBatches.add(batch);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Prepended: runs before pino's own exit handler, which would otherwise find the batch still unwritten.
  process.prependListener('exit', () => {
    for (const b of openBatches) b.writeOutAtExit();
  });
}

/** fsync, which SonicBoom's flush(cb) ends with, is refused on pipes and terminals; the bytes were written. */
function isUnsyncable(err: Error | null | undefined): boolean {
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  return code === 'EINVAL' || code === 'ENOTSUP' || code === 'EROFS';
}

/** What the pino logger writes into: its lines encoded for the byte stream; log.flush(cb) takes the batch along. */
function loggerInput(stream: Destination, batch: AccessBatch): DestinationStream {
  const input = {
    // SonicBoom in contentMode 'buffer' writes Buffers; its type declares only strings.
    write: (line: string) => stream.write(Buffer.from(line, 'utf8') as unknown as string),
    flush: (cb: (err?: Error) => void) => {
      batch.flush();
      // A write that completes during the flush reports the stream drained even when a short tail (under
      // minLength) came in meanwhile; the second flush writes that tail.
      stream.flush(() => stream.flush((err) => cb(err && !isUnsyncable(err) ? err : undefined)));
    },
  };
  return input;
}

/**
 * The logger, and beside it (see accessSinkOf) where access lines go. On a file descriptor both share
 * one buffered stream: access lines are gathered and written in batches of 64 KiB or every second, while every
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
  // Buffer mode: the stream takes bytes; the logger's own (rare) lines are encoded on their way in.
  const stream = pino.destination({ dest: destination, sync: false, minLength: 4096, contentMode: 'buffer' });
  const batch = new AccessBatch(stream, destination);
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
    loggerInput(stream, batch),
  );
  log[kAccessSink] = (line) => batch.write(line);
  return log;
}

// Defence in depth: none of these are ever logged on purpose. Access lines skip it: they are built field by field
// from a fixed entry type that has no such field.
const REDACT = {
  paths: ['authorization', 'cookie', '*.authorization', '*.cookie', 'key', 'cert'],
  censor: '[redacted]',
};

/** The access-line sink of a logger made by createLogger (batched on a file descriptor), else undefined. */
export function accessSinkOf(log: Logger): AccessSink | undefined {
  return (log as LoggerWithAccess)[kAccessSink];
}
