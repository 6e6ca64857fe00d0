// Bounded waits on a condition, for the end-to-end tests: never a fixed sleep before a positive assertion.

export interface PollOptions {
  /** Give up after this long (generous: the machine running the suite is busy). */
  timeoutMs: number;
  /** How often to look again; default 20 ms. */
  everyMs?: number;
}

/** Polls `check` until it is true (resolves true) or `timeoutMs` has passed (resolves with one last look). */
export async function poll(check: () => boolean | Promise<boolean>, o: PollOptions): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, o.everyMs ?? 20));
  }
  return check();
}

/** Like `poll`, but a timeout throws an error naming `what` was awaited, so the failing test says why. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  o: PollOptions & { what: string },
): Promise<void> {
  if (!(await poll(check, o))) throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}`);
}
