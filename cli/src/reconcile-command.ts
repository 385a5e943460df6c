/**
 * What the reconcile commands of both deployments print and how they exit, so that an operator
 * reads the same summary and scripts see the same exit codes whichever deployment they run.
 * The commands themselves (which store, which variables) stay in each deployment.
 */
import type { ReconcileReport } from '@reactometer/shared';
import { createCommand, type Command } from './run-cli.js';

/** Exit codes of the reconcile commands. */
export const RECONCILE_EXIT = {
  /** Every count is right, or was repaired. */
  ok: 0,
  /** Drift remains: found in a dry run, or an emoji changed during the run and was skipped. */
  drift: 1,
  /** Bad arguments, bad configuration or a failed run (the same code as a usage error). */
  error: 2,
} as const;

/**
 * The command line of a reconcile command: `--dry-run`, `--help`; `reads` is the paragraph on
 * where the command finds its store and which variables it reads.
 */
export function createReconcileCommand(name: string, reads: string): Command {
  return createCommand(
    name,
    'Recomputes every emoji count from the stored reaction states, reports drift and repairs it.',
  )
    .option('--dry-run', 'report only, change nothing')
    .addHelpText(
      'after',
      `
${reads}

Prints the JSON report on stdout and a summary on stderr.
Exit codes: 0 every count is right (or was repaired); 1 drift remains (found in a dry run, or an
emoji changed during the run and was skipped: run again); 2 error.`,
    );
}

/** What a reconcile command's action resolves with: the exit code, failures reported as 2. */
export async function runReconcile(
  run: () => Promise<{
    readonly report: ReconcileReport;
    readonly json: object;
    readonly summary: ReconcileSummaryOptions;
  }>,
): Promise<number> {
  try {
    const { report, json, summary } = await run();
    process.stdout.write(`${JSON.stringify({ ...json, ...report }, null, 2)}\n`);
    process.stderr.write(`${summariseReconcile(report, summary)}\n`);
    return reconcileExitCode(report);
  } catch (err) {
    process.stderr.write(`reconcile failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return RECONCILE_EXIT.error;
  }
}

/** Emoji whose stored count is still not the recomputed one after the run, sorted. */
export function unsettledEmoji(report: ReconcileReport): string[] {
  return [
    ...new Set([
      ...report.drift.filter((d) => !d.repaired).map((d) => d.emoji),
      ...report.skipped,
      ...report.failed.map((f) => f.emoji),
    ]),
  ].sort();
}

/**
 * `RECONCILE_EXIT.drift` while any count is unsettled or a bad record needs an operator, else
 * `RECONCILE_EXIT.ok`.
 */
export function reconcileExitCode(report: ReconcileReport): number {
  return unsettledEmoji(report).length > 0 || report.badRecords.length > 0
    ? RECONCILE_EXIT.drift
    : RECONCILE_EXIT.ok;
}

export interface ReconcileSummaryOptions {
  /** The run only reported (`repair: false`). */
  readonly dryRun: boolean;
  /** What was reconciled, as the first line names it, e.g. `database "reactometer"`. */
  readonly target: string;
  /** List emoji left alone because an update was in flight (default true). */
  readonly showInFlight?: boolean;
}

/**
 * The human summary of a run: totals, one line per wrong count and what happened to it, and
 * what to do next. Lines are joined with `\n`, without a trailing newline.
 */
export function summariseReconcile(
  report: ReconcileReport,
  { dryRun, target, showInFlight = true }: ReconcileSummaryOptions,
): string {
  const lines = [
    `reconcile${dryRun ? ' (dry run)' : ''} of ${target}: ${report.statesScanned} reaction states, ` +
      `${report.emojiChecked} emoji checked, ${report.drift.length} count(s) wrong, ` +
      `${report.pendingCleared} stale pending marker(s) cleared`,
  ];
  for (const d of report.drift) {
    const what = d.repaired
      ? 'repaired'
      : dryRun
        ? 'not repaired (dry run)'
        : 'skipped (changed during the run)';
    lines.push(`  ${d.emoji}: stored ${d.stored}, expected ${d.expected}: ${what}`);
  }
  for (const f of report.failed)
    lines.push(`  ${f.emoji}: repair refused by the store: ${f.error}`);
  for (const b of report.badRecords) {
    lines.push(`  bad record ${JSON.stringify(b.key)}: ${b.reason}; not counted, left alone`);
  }
  if (showInFlight) {
    const inFlight = report.skipped.filter((e) => !report.drift.some((d) => d.emoji === e));
    if (inFlight.length > 0)
      lines.push(`  left alone while an update is in flight: ${inFlight.join(', ')}`);
  }
  const left = unsettledEmoji(report);
  lines.push(
    left.length === 0
      ? 'every count matches the reaction states'
      : dryRun
        ? `${left.length} count(s) would be repaired; run without --dry-run to fix them`
        : `${left.length} count(s) still differ; run reconcile again`,
  );
  return lines.join('\n');
}
