/** What the copy and the verification found, and the bounded list a report carries. */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  readonly subject: 'state' | 'count' | 'reconcile';
  /** The reaction key or emoji it is about. */
  readonly id: string;
  readonly message: string;
}

/** Findings kept per severity, so that a wholesale mismatch does not print a million lines. */
export const MAX_FINDINGS = 200;

/** Counts every finding, keeps the first `MAX_FINDINGS` of each severity. */
export class FindingLog {
  private readonly kept: Record<Severity, Finding[]> = { error: [], warning: [], info: [] };
  readonly totals: Record<Severity, number> = { error: 0, warning: 0, info: 0 };

  add(f: Finding): void {
    this.totals[f.severity]++;
    if (this.kept[f.severity].length < MAX_FINDINGS) this.kept[f.severity].push(f);
  }

  /** The kept findings, errors first. */
  list(): Finding[] {
    return [...this.kept.error, ...this.kept.warning, ...this.kept.info];
  }
}
