// Lets through at most `limit` log lines per window and summarises what it held back, so a flood cannot flood the log.

export interface RateLimitedLog {
  /** Calls `emit` when under the limit; otherwise counts the event under `key` for the next summary. */
  log(key: string, emit: () => void): void;
  /** Emits the pending summary now (used at shutdown). */
  flush(): void;
  stop(): void;
}

export function createRateLimitedLog(
  options: { limit: number; windowMs: number },
  summarize: (suppressed: Record<string, number>, total: number) => void,
): RateLimitedLog {
  let emitted = 0;
  let suppressed: Record<string, number> = {};
  let suppressedTotal = 0;

  const flush = (): void => {
    if (suppressedTotal > 0) summarize(suppressed, suppressedTotal);
    emitted = 0;
    suppressed = {};
    suppressedTotal = 0;
  };
  const timer = setInterval(flush, options.windowMs);
  timer.unref();

  return {
    log(key, emit) {
      if (emitted < options.limit) {
        emitted += 1;
        emit();
        return;
      }
      suppressed[key] = (suppressed[key] ?? 0) + 1;
      suppressedTotal += 1;
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
