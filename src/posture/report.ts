// Formats posture findings as plain text for logs and the `check` command.
import type { Finding, Severity } from './types.js';

const LABELS: Record<Severity, string> = { critical: 'CRITICAL', warn: 'WARN', info: 'INFO' };

/** One block per finding: `CRITICAL running-as-root: message` then an indented `fix:` line. */
export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'posture: no findings';
  const lines: string[] = [];
  for (const finding of findings) {
    lines.push(`${LABELS[finding.severity]} ${finding.id}: ${finding.message}`);
    lines.push(`  fix: ${finding.remediation}`);
  }
  return lines.join('\n');
}

/** Counts per severity, e.g. for a one-line summary or the `check --json` output. */
export function countFindings(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, warn: 0, info: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}
