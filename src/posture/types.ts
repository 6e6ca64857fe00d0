// A posture finding: what is wrong with the host or container, how bad it is, and the setting that fixes it.

export type Severity = 'critical' | 'warn' | 'info';

export interface Finding {
  /** Stable, used as the `id` metric label. */
  id: string;
  severity: Severity;
  message: string;
  remediation: string;
}
