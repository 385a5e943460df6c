/**
 * Moves the droplet's data (MongoDB) into the serverless deployment's tables (DynamoDB), then
 * proves the move: every reaction state equal on both sides, every count explained, and the
 * core's `reconcile` (report-only) finding no drift on the target.
 *
 * It goes through the two `ReactionStore` ports, not around them, so the documents and items are
 * read and written by the same mappings the deployments use (a malformed document fails loudly in
 * the adapter instead of being copied). The one exception is writing a count: the port's
 * `setCount` always starts a new count at version 1, and the version is what dashboards use to
 * drop stale updates, so counts are inserted with their version through `CountInserter`
 * (`DynamoReactionStore.insertCount`, a conditional PutItem in the adapter that owns the item).
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
 */
import { createHash } from 'node:crypto';
import {
  reconcile,
  type Clock,
  type EmojiCount,
  type ReactionState,
  type ReactionStore,
  type ReconcileReport,
} from '@reactometer/shared';

/** Inserts a count with its version, only if the target has no count for that emoji yet. */
export interface CountInserter {
  /** false: a count already exists (nothing written). */
  insertCount(count: EmojiCount): Promise<boolean>;
}

export interface MigrationDeps {
  /** The droplet's store (read only). */
  readonly source: ReactionStore;
  /** The serverless deployment's store. */
  readonly target: ReactionStore;
  readonly targetCounts: CountInserter;
  readonly clock: Clock;
  /** The deployments' PENDING_LEASE_MS: younger pending markers belong to live attempts. */
  readonly pendingLeaseMs: number;
}

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

/** How one reaction state compares between the two sides. */
export type StateComparison =
  /** Byte-for-byte the same state (rev and pending marker included). */
  | 'identical'
  /** Same event applied on both sides (same eventTs, presence, reaction); rev or pending differ. */
  | 'same-event'
  /** The target applied a later event (dual feed): fine, reported. */
  | 'target-newer'
  /** Only the target has this reaction (it arrived by dual feed): fine, reported. */
  | 'target-only'
  /** The source applied a later event the target never got: an error. */
  | 'source-newer'
  /** Missing on the target: an error after the copy. */
  | 'missing-on-target'
  /** Same eventTs but a different presence or reaction: an error. */
  | 'conflict';

export const STATE_ERRORS: ReadonlySet<StateComparison> = new Set([
  'source-newer',
  'missing-on-target',
  'conflict',
]);

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  readonly subject: 'state' | 'count' | 'reconcile';
  /** The reaction key or emoji it is about. */
  readonly id: string;
  readonly message: string;
}

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

export interface SideSummary {
  readonly states: number;
  /** sha256 over the sorted `key sha256(state)` lines: equal digests mean equal state sets. */
  readonly digest: string;
  readonly counts: number;
}

export interface VerifyReport {
  readonly source: SideSummary;
  readonly target: SideSummary;
  readonly states: Readonly<Record<StateComparison, number>>;
  readonly countsChecked: number;
  readonly countMismatches: number;
  readonly targetReconcile: ReconcileReport;
  readonly sourceReconcile: ReconcileReport;
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

/** Findings kept per severity, so that a wholesale mismatch does not print a million lines. */
export const MAX_FINDINGS = 200;
const DEFAULT_BATCH_SIZE = 25;

/** Canonical JSON of a state, field by field in a fixed order (the content that is hashed). */
export function canonicalState(s: ReactionState): string {
  return JSON.stringify([
    s.key,
    s.ref.team,
    s.ref.item,
    s.ref.user,
    s.ref.reaction,
    s.baseEmoji,
    s.present,
    s.eventTs,
    s.rev,
    s.pending === null ? null : [s.pending.delta, s.pending.since],
  ]);
}

export function stateHash(s: ReactionState): string {
  return createHash('sha256').update(canonicalState(s)).digest('hex');
}

/** Digest of a whole side: independent of scan order. */
export function digestOf(hashes: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const key of [...hashes.keys()].sort()) h.update(`${key} ${hashes.get(key)!}\n`);
  return h.digest('hex');
}

/** Compares one reaction's state on both sides (either may be missing, not both). */
export function compareStates(
  source: ReactionState | null,
  target: ReactionState | null,
): StateComparison {
  if (source === null) return 'target-only';
  if (target === null) return 'missing-on-target';
  if (canonicalState(source) === canonicalState(target)) return 'identical';
  // Canonical strings sort like the timestamps they encode (see formatEventTs).
  if (target.eventTs > source.eventTs) return 'target-newer';
  if (target.eventTs < source.eventTs) return 'source-newer';
  const sameFacts =
    source.present === target.present &&
    source.baseEmoji === target.baseEmoji &&
    source.ref.team === target.ref.team &&
    source.ref.item === target.ref.item &&
    source.ref.user === target.ref.user &&
    source.ref.reaction === target.ref.reaction;
  return sameFacts ? 'same-event' : 'conflict';
}

function describe(kind: StateComparison, s: ReactionState | null, t: ReactionState | null): string {
  const side = (x: ReactionState | null) =>
    x === null
      ? 'none'
      : `${x.present ? 'present' : 'absent'} @${x.eventTs} rev ${x.rev}${x.pending ? ` pending ${x.pending.delta > 0 ? '+1' : '-1'}` : ''}`;
  const what: Record<StateComparison, string> = {
    identical: 'identical',
    'same-event': 'same event on both sides (independent revs/markers)',
    'target-newer': 'newer on the target (dual feed): kept',
    'target-only': 'only on the target (dual feed): kept',
    'source-newer': 'newer on the source: the target missed an event',
    'missing-on-target': 'missing on the target',
    conflict: 'same eventTs but different content',
  };
  return `${what[kind]} (source: ${side(s)}; target: ${side(t)})`;
}

class Findings {
  private readonly kept: Record<Severity, Finding[]> = { error: [], warning: [], info: [] };
  readonly totals: Record<Severity, number> = { error: 0, warning: 0, info: 0 };

  add(f: Finding): void {
    this.totals[f.severity]++;
    if (this.kept[f.severity].length < MAX_FINDINGS) this.kept[f.severity].push(f);
  }

  list(): Finding[] {
    return [...this.kept.error, ...this.kept.warning, ...this.kept.info];
  }
}

function severityOf(kind: StateComparison): Severity {
  return STATE_ERRORS.has(kind) ? 'error' : 'info';
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
  dryRun: boolean,
  batchSize: number,
  findings: Findings,
  progress: (line: string) => void,
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
      severity: severityOf(kind),
      subject: 'state',
      id: state.key,
      message: `not copied: ${describe(kind, state, existing)}`,
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
  findings: Findings,
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

async function readStates(
  store: ReactionStore,
): Promise<{ states: Map<string, ReactionState>; hashes: Map<string, string> }> {
  const states = new Map<string, ReactionState>();
  const hashes = new Map<string, string>();
  for await (const s of store.scanStates()) {
    states.set(s.key, s);
    hashes.set(s.key, stateHash(s));
  }
  return { states, hashes };
}

const present = (s: ReactionState | undefined): number => (s?.present === true ? 1 : 0);

/**
 * Compares both sides completely. Counts are checked against what the states explain: on the
 * target, count(emoji) must equal the source's count plus, over that emoji's reactions, the
 * target's presence minus the source's presence (zero for every reaction that is identical on
 * both sides). That makes a dual-fed difference an explained one and any other an error.
 */
async function verifyInto(deps: MigrationDeps, findings: Findings): Promise<VerifyReport> {
  // Counts first, then states: the order reconcile uses, so that an event landing during the
  // run shows up as a state change the counts do not explain yet (rerun) rather than the reverse.
  const [sourceCountList, targetCountList] = await Promise.all([
    deps.source.listCounts(),
    deps.target.listCounts(),
  ]);
  const [src, tgt] = await Promise.all([readStates(deps.source), readStates(deps.target)]);

  const states: Record<StateComparison, number> = {
    identical: 0,
    'same-event': 0,
    'target-newer': 0,
    'target-only': 0,
    'source-newer': 0,
    'missing-on-target': 0,
    conflict: 0,
  };
  const presenceDelta = new Map<string, number>();
  for (const key of new Set([...src.states.keys(), ...tgt.states.keys()])) {
    const s = src.states.get(key) ?? null;
    const t = tgt.states.get(key) ?? null;
    const kind = compareStates(s, t);
    states[kind]++;
    if (kind !== 'identical') {
      findings.add({
        severity: severityOf(kind),
        subject: 'state',
        id: key,
        message: describe(kind, s, t),
      });
    }
    const emoji = (t ?? s)!.baseEmoji;
    const delta = present(t ?? undefined) - present(s ?? undefined);
    if (delta !== 0) presenceDelta.set(emoji, (presenceDelta.get(emoji) ?? 0) + delta);
  }

  const sourceCounts = new Map(sourceCountList.map((c) => [c.emoji, c]));
  const targetCounts = new Map(targetCountList.map((c) => [c.emoji, c]));
  let countMismatches = 0;
  const emojis = [...new Set([...sourceCounts.keys(), ...targetCounts.keys()])].sort();
  for (const emoji of emojis) {
    const s = sourceCounts.get(emoji);
    const t = targetCounts.get(emoji);
    const delta = presenceDelta.get(emoji) ?? 0;
    const expected = (s?.count ?? 0) + delta;
    const explain = `source ${s === undefined ? 'none' : `${s.count} (v${s.version})`}, ${delta >= 0 ? '+' : ''}${delta} from states that differ`;
    if (t === undefined) {
      if (s !== undefined) {
        countMismatches++;
        findings.add({
          severity: 'error',
          subject: 'count',
          id: emoji,
          message: `count missing on the target (${explain})`,
        });
      }
      continue;
    }
    if (t.count !== expected) {
      countMismatches++;
      findings.add({
        severity: 'error',
        subject: 'count',
        id: emoji,
        message: `count on the target is ${t.count} (v${t.version}), expected ${expected} (${explain})`,
      });
    } else if (s === undefined || t.count !== s.count) {
      findings.add({
        severity: 'info',
        subject: 'count',
        id: emoji,
        message: `count ${t.count} on the target differs from the source, explained by dual-fed states (${explain})`,
      });
    } else if (t.version !== s.version) {
      findings.add({
        severity: 'info',
        subject: 'count',
        id: emoji,
        message: `count equal (${t.count}); version ${t.version} on the target, ${s.version} on the source`,
      });
    }
  }

  const reconcileOptions = {
    clock: deps.clock,
    pendingLeaseMs: deps.pendingLeaseMs,
    repair: false,
  };
  const [targetReconcile, sourceReconcile] = await Promise.all([
    reconcile(deps.target, reconcileOptions),
    reconcile(deps.source, reconcileOptions),
  ]);
  const sourceDrift = new Set(sourceReconcile.drift.map((d) => d.emoji));
  for (const d of targetReconcile.drift) {
    findings.add({
      severity: 'error',
      subject: 'reconcile',
      id: d.emoji,
      message:
        `reconcile on the target: stored ${d.stored}, the states say ${d.expected}` +
        (sourceDrift.has(d.emoji)
          ? ' (the source has the same drift: run reconcile on the droplet, then migrate again)'
          : ' (run with --repair-counts if dual feed created this count before the migration)'),
    });
  }
  for (const emoji of targetReconcile.skipped) {
    findings.add({
      severity: 'warning',
      subject: 'reconcile',
      id: emoji,
      message: 'reconcile on the target skipped it: an update was in flight; run verify again',
    });
  }
  for (const d of sourceReconcile.drift) {
    findings.add({
      severity: 'warning',
      subject: 'reconcile',
      id: d.emoji,
      message: `reconcile on the source: stored ${d.stored}, its states say ${d.expected}`,
    });
  }

  return {
    source: { states: src.states.size, digest: digestOf(src.hashes), counts: sourceCounts.size },
    target: { states: tgt.states.size, digest: digestOf(tgt.hashes), counts: targetCounts.size },
    states,
    countsChecked: emojis.length,
    countMismatches,
    targetReconcile,
    sourceReconcile,
  };
}

/** Verification only: nothing is written. */
export function verifyMigration(deps: MigrationDeps): Promise<MigrationReport> {
  return migrateMongoToDynamo(deps, { verifyOnly: true });
}

/** Copies (unless `verifyOnly`), then verifies (unless `dryRun`). Never throws for differences. */
export async function migrateMongoToDynamo(
  deps: MigrationDeps,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const dryRun = options.dryRun === true;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const progress = options.onProgress ?? (() => undefined);
  const findings = new Findings();

  let copy: CopyReport | null = null;
  if (options.verifyOnly !== true) {
    const statePart = await copyStates(deps, dryRun, batchSize, findings, progress);
    const countPart = await copyCounts(deps, dryRun, findings);
    progress(
      `counts: ${countPart.countsRead} read, ${countPart.countsCopied} ${dryRun ? 'to copy' : 'copied'}, ` +
        `${countPart.countsAlreadyIdentical} already identical, ${countPart.countsDiffering} differing`,
    );
    let repair: ReconcileReport | null = null;
    if (options.repairCounts === true && !dryRun) {
      repair = await reconcile(deps.target, {
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
    }
    copy = { ...statePart, ...countPart, repair };
  }

  let verify: VerifyReport | null = null;
  if (!dryRun) {
    progress('verifying: reading both sides completely');
    verify = await verifyInto(deps, findings);
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

/** A human-readable summary of a report (the CLI prints it to stderr). */
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
    if (f.severity === 'info' && report.findings.length > 50) continue;
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
