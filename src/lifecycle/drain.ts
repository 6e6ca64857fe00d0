// The drain of a process (one proxy, or the workers' primary): one flag, raised once, that readiness, the request
// judgement and the listener all read through `isDraining`; a second stop while draining can only cut what is left.

export interface DrainSteps {
  /** Finishes in-flight work within `graceMs`, then releases everything; runs once. */
  drain(graceMs: number): Promise<void>;
  /** Closes what is still open now (a stop asked for again with no grace). */
  cut(): void;
}

export interface Drain {
  isDraining(): boolean;
  /**
   * Raises the flag and runs `steps.drain` the first time; later calls return the same promise, and one with
   * `graceMs` 0 runs `steps.cut`.
   */
  close(graceMs: number): Promise<void>;
}

export function createDrain(steps: DrainSteps): Drain {
  let draining = false;
  let closing: Promise<void> | null = null;
  return {
    isDraining: () => draining,
    close(graceMs) {
      if (closing !== null) {
        if (graceMs === 0) steps.cut();
        return closing;
      }
      draining = true;
      closing = steps.drain(graceMs);
      return closing;
    },
  };
}
