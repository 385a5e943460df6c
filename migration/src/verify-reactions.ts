/**
 * The verification: both sides read completely and compared state by state, every count on the
 * target checked against what the states explain, and the core's `reconcile` (report-only) run on
 * both sides. Writes nothing.
 */
import {
  reconcile,
  type EmojiCount,
  type ReactionState,
  type ReactionStore,
  type ReconcileReport,
} from '@reactometer/shared';
import {
  compareStates,
  describeComparison,
  digestOf,
  severityOf,
  stateHash,
  type StateComparison,
} from './compare-states.js';
import type { FindingLog } from './findings.js';
import type { MigrationDeps } from './ports.js';

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

/**
 * Compares both sides completely. Counts are checked against what the states explain: on the
 * target, count(emoji) must equal the source's count plus, over that emoji's reactions, the
 * target's presence minus the source's presence (zero for every reaction that is identical on
 * both sides). That makes a dual-fed difference an explained one and any other an error.
 */
export async function verifyReactions(
  deps: MigrationDeps,
  findings: FindingLog,
): Promise<VerifyReport> {
  // Counts first, then states: the order reconcile uses, so that an event landing during the
  // run shows up as a state change the counts do not explain yet (rerun) rather than the reverse.
  const [sourceCountList, targetCountList] = await Promise.all([
    deps.source.listCounts(),
    deps.target.listCounts(),
  ]);
  const [src, tgt] = await Promise.all([readStates(deps.source), readStates(deps.target)]);

  const { states, presenceDelta } = compareAllStates(src.states, tgt.states, findings);
  const sourceCounts = new Map(sourceCountList.map((c) => [c.emoji, c]));
  const targetCounts = new Map(targetCountList.map((c) => [c.emoji, c]));
  const { countsChecked, countMismatches } = checkCounts(
    sourceCounts,
    targetCounts,
    presenceDelta,
    findings,
  );
  const { targetReconcile, sourceReconcile } = await reconcileBothSides(deps, findings);

  return {
    source: { states: src.states.size, digest: digestOf(src.hashes), counts: sourceCounts.size },
    target: { states: tgt.states.size, digest: digestOf(tgt.hashes), counts: targetCounts.size },
    states,
    countsChecked,
    countMismatches,
    targetReconcile,
    sourceReconcile,
  };
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

const present = (s: ReactionState | null): number => (s?.present === true ? 1 : 0);

/** Classifies every key of either side; returns the tallies and, per emoji, target minus source presence. */
function compareAllStates(
  source: ReadonlyMap<string, ReactionState>,
  target: ReadonlyMap<string, ReactionState>,
  findings: FindingLog,
): { states: Record<StateComparison, number>; presenceDelta: Map<string, number> } {
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
  for (const key of new Set([...source.keys(), ...target.keys()])) {
    const s = source.get(key) ?? null;
    const t = target.get(key) ?? null;
    const kind = compareStates(s, t);
    states[kind]++;
    if (kind !== 'identical') {
      findings.add({
        severity: severityOf(kind),
        subject: 'state',
        id: key,
        message: describeComparison(kind, s, t),
      });
    }
    const emoji = (t ?? s)!.baseEmoji;
    const delta = present(t) - present(s);
    if (delta !== 0) presenceDelta.set(emoji, (presenceDelta.get(emoji) ?? 0) + delta);
  }
  return { states, presenceDelta };
}

function checkCounts(
  sourceCounts: ReadonlyMap<string, EmojiCount>,
  targetCounts: ReadonlyMap<string, EmojiCount>,
  presenceDelta: ReadonlyMap<string, number>,
  findings: FindingLog,
): { countsChecked: number; countMismatches: number } {
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
  return { countsChecked: emojis.length, countMismatches };
}

/** The core's own consistency check, report-only: drift on the target is an error, on the source a warning. */
async function reconcileBothSides(
  deps: MigrationDeps,
  findings: FindingLog,
): Promise<{ targetReconcile: ReconcileReport; sourceReconcile: ReconcileReport }> {
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
  return { targetReconcile, sourceReconcile };
}
