// The small catalogue of errors that carry an exit code up to main.ts, the only place that exits.

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 78;

/** An error meant for the operator: printed without a stack trace, exits with `exitCode`. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One or more configuration, file or posture problems (exit 78). Each problem names its key and a fix. */
export class ConfigError extends UserError {
  constructor(readonly problems: string[]) {
    super(`configuration refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`, EXIT_CONFIG);
  }
}
