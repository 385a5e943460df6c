/**
 * The copy: every state, then every count, from the source into the target, each written only
 * where the target has none (a compare-and-set), so that a re-run copies nothing twice and a
 * dual-fed state that reached the target first is compared, never overwritten.
 */
import { reconcile, type ReactionState, type ReconcileReport } from '@reactometer/shared';
import { describeComparison, compareStates, severityOf } from './compare-states.js';
import type { FindingLog } from './findings.js';
import type { MigrationDeps } from './ports.js';

export interface CopyReport {
  readonly statesRead: number;
  /** Written (or, in a dry run, that would be written). */
  readonly statesCopied: number;
  readonly statesAlreadyIdentical: number;
  /** Present on the target and not identical; compared, never overwritten (see verify). */
  readonly statesDiffering: number;
  readonly countsRead: number;
  readonly countsCopied: number;
  readonly countsAlreadyIdentical: number;
  readonly countsDiffering: number;
  /** Set when `repairCounts` ran reconcile with repair on the target. */
  readonly repair: ReconcileReport | null;
}

export interface CopyOptions {
  /** Count what would be written; write nothing. */
  readonly dryRun: boolean;
  /** States compared or written concurrently. */
  readonly batchSize: number;
  /** After copying, run `reconcile` with repair on the target (never in a dry run). */
  readonly repairCounts: boolean;
  readonly progress: (line: string) => void;
}

/**
 * Copies states, then counts, then (with `repairCounts`) repairs the target's counts. Differences
 * found on the way go to `findings`; they are errors only in a dry run: otherwise the verification
 * that follows reads both sides again and is the one judge, so that a difference is not counted
 * twice, nor fails the run when dual feed has settled it by the time it is verified.
 */
export async function copyReactions(
  deps: MigrationDeps,
  options: CopyOptions,
  findings: FindingLog,
): Promise<CopyReport> {
  const states = await copyStates(deps, options, findings);
  const counts = await copyCounts(deps, options.dryRun, findings);
  options.progress(
    `counts: ${counts.countsRead} read, ${counts.countsCopied} ${options.dryRun ? 'to copy' : 'copied'}, ` +
      `${counts.countsAlreadyIdentical} already identical, ${counts.countsDiffering} differing`,
  );
  const repair =
    options.repairCounts && !options.dryRun ? await repairTargetCounts(deps, findings) : null;
  return { ...states, ...counts, repair };
}

async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncIterable<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function copyStates(
  deps: MigrationDeps,
  { dryRun, batchSize, progress }: CopyOptions,
  findings: FindingLog,
): Promise<
  Pick<CopyReport, 'statesRead' | 'statesCopied' | 'statesAlreadyIdentical' | 'statesDiffering'>
> {
  let statesRead = 0;
  let statesCopied = 0;
  let statesAlreadyIdentical = 0;
  let statesDiffering = 0;

  const one = async (state: ReactionState): Promise<void> => {
    let existing = await deps.target.getState(state.key);
    if (existing === null) {
      if (dryRun) {
        statesCopied++;
        return;
      }
      // The compare-and-set "no state yet": a dual-fed event that created the state since the
      // read above wins, and the state is compared below instead of overwritten.
      if (await deps.target.putState(state, null)) {
        statesCopied++;
        return;
      }
      existing = await deps.target.getState(state.key);
    }
    const kind = compareStates(state, existing);
    if (kind === 'identical') {
      statesAlreadyIdentical++;
      return;
    }
    statesDiffering++;
    findings.add({
      severity: dryRun ? severityOf(kind) : 'info',
      subject: 'state',
      id: state.key,
      message: `not copied: ${describeComparison(kind, state, existing)}${dryRun ? '' : '; checked by verify'}`,
    });
  };

  for await (const batch of batches(deps.source.scanStates(), batchSize)) {
    await Promise.all(batch.map(one));
    statesRead += batch.length;
    progress(
      `states: ${statesRead} read, ${statesCopied} ${dryRun ? 'to copy' : 'copied'}, ` +
        `${statesAlreadyIdentical} already identical, ${statesDiffering} differing`,
    );
  }
  return { statesRead, statesCopied, statesAlreadyIdentical, statesDiffering };
}

async function copyCounts(
  deps: MigrationDeps,
  dryRun: boolean,
  findings: FindingLog,
): Promise<
  Pick<CopyReport, 'countsRead' | 'countsCopied' | 'countsAlreadyIdentical' | 'countsDiffering'>
> {
  const sourceCounts = await deps.source.listCounts();
  const targetCounts = new Map((await deps.target.listCounts()).map((c) => [c.emoji, c]));
  let countsCopied = 0;
  let countsAlreadyIdentical = 0;
  let countsDiffering = 0;
  for (const count of sourceCounts) {
    let existing = targetCounts.get(count.emoji);
    if (existing === undefined) {
      if (dryRun || (await deps.targetCounts.insertCount(count))) {
        countsCopied++;
        continue;
      }
      // A dual-fed event created the count since the listing above: compare with what it wrote.
      existing = (await deps.target.listCounts()).find((c) => c.emoji === count.emoji);
    }
    if (
      existing !== undefined &&
      existing.count === count.count &&
      existing.version === count.version
    ) {
      countsAlreadyIdentical++;
      continue;
    }
    countsDiffering++;
    findings.add({
      severity: 'info',
      subject: 'count',
      id: count.emoji,
      message:
        `not copied: the target already has ${existing?.count ?? 'no'} (version ${existing?.version ?? '-'}), ` +
        `the source ${count.count} (version ${count.version}); checked by verify`,
    });
  }
  return { countsRead: sourceCounts.length, countsCopied, countsAlreadyIdentical, countsDiffering };
}

/**
 * Recomputes the target's counts from its states: the way out when dual feed counted new events
 * on the target from zero before the history arrived.
 */
async function repairTargetCounts(
  deps: MigrationDeps,
  findings: FindingLog,
): Promise<ReconcileReport> {
  const repair = await reconcile(deps.target, {
    clock: deps.clock,
    pendingLeaseMs: deps.pendingLeaseMs,
    repair: true,
  });
  for (const d of repair.drift) {
    findings.add({
      severity: 'info',
      subject: 'reconcile',
      id: d.emoji,
      message: `--repair-counts: target count ${d.stored} -> ${d.expected} (${d.repaired ? 'repaired' : 'skipped'})`,
    });
  }
  return repair;
}
