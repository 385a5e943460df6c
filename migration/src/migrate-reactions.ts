/**
 * Moves the droplet's data (MongoDB) into the serverless deployment's tables (DynamoDB), then
 * proves the move: every reaction state equal on both sides, every count explained, and the
 * core's `reconcile` (report-only) finding no drift on the target.
 *
 * It goes through the two `ReactionStore` ports, not around them, so the documents and items are
 * read and written by the same mappings the deployments use (a malformed document fails loudly in
 * the adapter instead of being copied). The one exception is writing a count: the port's
 * `setCount` always starts a new count at version 1, and the version is what dashboards use to
 * drop stale updates, so counts are inserted with their version through `CountInserter` (see
 * ports.ts).
 *
 * Dual feed. While the migration runs, both deployments may receive the same Slack events (see
 * docs/migration.md), so the target can legitimately be ahead of the source: a state with a later
 * `eventTs` on the target, a reaction only the target has seen, and a count that differs from
 * the source by exactly those states. These are reported, not treated as errors. A state that is
 * newer on the SOURCE means the target missed an event; that is an error.
 *
 * Idempotent and resumable: a state is written only where the target has none (`putState` with
 * `expectedRev` null, a compare-and-set), a count only where the target has none, so a re-run
 * (after a crash, or to check again) copies nothing twice and reports "already present, identical".
 *
 * The parts: copy-reactions.ts copies, verify-reactions.ts verifies, compare-states.ts compares
 * one state, format-report.ts renders the report, migrate-cli.ts wires the real stores.
 */
import { copyReactions, type CopyReport } from './copy-reactions.js';
import { FindingLog, type Finding } from './findings.js';
import type { MigrationDeps } from './ports.js';
import { verifyReactions, type VerifyReport } from './verify-reactions.js';

export interface MigrationOptions {
  /** Read both sides and report what would be copied; write nothing, skip verification. */
  readonly dryRun?: boolean;
  /** Skip copying; only verify. */
  readonly verifyOnly?: boolean;
  /**
   * After copying, run `reconcile` with repair on the target: recomputes counts that dual-fed
   * events created on the target before the history arrived. Off by default, so that a count
   * that differs is reported rather than silently rewritten.
   */
  readonly repairCounts?: boolean;
  /** States compared or written concurrently (default 25). */
  readonly batchSize?: number;
  readonly onProgress?: (line: string) => void;
}

export interface MigrationReport {
  readonly dryRun: boolean;
  readonly copy: CopyReport | null;
  readonly verify: VerifyReport | null;
  /** Errors first; only the first `MAX_FINDINGS` per severity are kept. */
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
  /** No error findings. */
  readonly ok: boolean;
}

const DEFAULT_BATCH_SIZE = 25;

/** Verification only: nothing is written. */
export function verifyMigration(deps: MigrationDeps): Promise<MigrationReport> {
  return migrateReactions(deps, { verifyOnly: true });
}

/** Copies (unless `verifyOnly`), then verifies (unless `dryRun`). Never throws for differences. */
export async function migrateReactions(
  deps: MigrationDeps,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const dryRun = options.dryRun === true;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  // Together they would do nothing at all and still report "OK".
  if (dryRun && options.verifyOnly === true) {
    throw new RangeError('dryRun and verifyOnly: choose one');
  }
  const progress = options.onProgress ?? (() => undefined);
  const findings = new FindingLog();

  const copy =
    options.verifyOnly === true
      ? null
      : await copyReactions(
          deps,
          { dryRun, batchSize, repairCounts: options.repairCounts === true, progress },
          findings,
        );

  let verify: VerifyReport | null = null;
  if (!dryRun) {
    progress('verifying: reading both sides completely');
    verify = await verifyReactions(deps, findings);
  }

  return {
    dryRun,
    copy,
    verify,
    findings: findings.list(),
    errors: findings.totals.error,
    warnings: findings.totals.warning,
    ok: findings.totals.error === 0,
  };
}
