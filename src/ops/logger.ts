// The process logger: pino JSON to stdout, written asynchronously so logging never blocks the request path.
import pino, { type Logger } from 'pino';
import type { Config } from '../config/types.js';

export function createLogger(level: Config['logLevel'], destination: number | NodeJS.WritableStream = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: false, minLength: 0 }) : destination;
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: none of these are ever logged on purpose.
      redact: { paths: ['authorization', 'cookie', '*.authorization', '*.cookie', 'key', 'cert'], censor: '[redacted]' },
    },
    stream,
  );
}
