/** The migration report as the operator reads it (the CLI prints it on stderr). */
import type { MigrationReport } from './migrate-reactions.js';

/** Beyond this many findings, the `info` ones are left out of the text (they stay in `--json`). */
const MAX_FINDINGS_WITH_INFO = 50;

/** A human-readable summary of a report: copy and verify figures, findings, then OK or FAILED. */
export function formatMigrationReport(report: MigrationReport): string {
  const lines: string[] = [];
  const c = report.copy;
  if (c !== null) {
    const verb = report.dryRun ? 'would copy' : 'copied';
    lines.push(
      `states: ${c.statesRead} read; ${verb} ${c.statesCopied}; already present, identical: ${c.statesAlreadyIdentical}; present and different (compared, not overwritten): ${c.statesDiffering}`,
      `counts: ${c.countsRead} read; ${verb} ${c.countsCopied}; already present, identical: ${c.countsAlreadyIdentical}; present and different: ${c.countsDiffering}`,
    );
    if (c.repair !== null) {
      lines.push(
        `--repair-counts: reconcile repaired ${c.repair.drift.filter((d) => d.repaired).length} count(s) on the target`,
      );
    }
  }
  const v = report.verify;
  if (v !== null) {
    lines.push(
      `verify: source ${v.source.states} states (digest ${v.source.digest.slice(0, 16)}), ${v.source.counts} counts; ` +
        `target ${v.target.states} states (digest ${v.target.digest.slice(0, 16)}), ${v.target.counts} counts; ` +
        `digests ${v.source.digest === v.target.digest ? 'EQUAL' : 'differ'}`,
      `  states: ${
        Object.entries(v.states)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none'
      }`,
      `  counts: ${v.countsChecked} checked, ${v.countMismatches} unexplained`,
      `  reconcile (report-only) on the target: ${v.targetReconcile.drift.length} drift, ${v.targetReconcile.skipped.length} skipped (in flight)`,
    );
  }
  for (const f of report.findings) {
    if (f.severity === 'info' && report.findings.length > MAX_FINDINGS_WITH_INFO) continue;
    lines.push(`  ${f.severity.toUpperCase()} ${f.subject} ${JSON.stringify(f.id)}: ${f.message}`);
  }
  lines.push(
    report.ok
      ? `OK: ${report.dryRun ? 'dry run, nothing written' : 'every state and count on the target is accounted for'}` +
          (report.warnings > 0 ? ` (${report.warnings} warning(s))` : '')
      : `FAILED: ${report.errors} difference(s)`,
  );
  return lines.join('\n');
}
