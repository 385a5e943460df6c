/**
 * How one reaction state compares between the source and the target, and the content hashes that
 * let verification say "both sides hold the same states" in one digest.
 */
import { createHash } from 'node:crypto';
import type { ReactionState } from '@reactometer/shared';
import type { Severity } from './findings.js';

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

/** The comparisons that mean the target lost or contradicts the source's data. */
export const STATE_ERRORS: ReadonlySet<StateComparison> = new Set([
  'source-newer',
  'missing-on-target',
  'conflict',
]);

/** `error` for the comparisons in `STATE_ERRORS`, `info` for the rest (dual feed is expected). */
export function severityOf(kind: StateComparison): Severity {
  return STATE_ERRORS.has(kind) ? 'error' : 'info';
}

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

/** sha256 of `canonicalState(s)`, hex. */
export function stateHash(s: ReactionState): string {
  return createHash('sha256').update(canonicalState(s)).digest('hex');
}

/** Digest of a whole side (key -> `stateHash`): independent of scan order. */
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

const MEANING: Record<StateComparison, string> = {
  identical: 'identical',
  'same-event': 'same event on both sides (independent revs/markers)',
  'target-newer': 'newer on the target (dual feed): kept',
  'target-only': 'only on the target (dual feed): kept',
  'source-newer': 'newer on the source: the target missed an event',
  'missing-on-target': 'missing on the target',
  conflict: 'same eventTs but different content',
};

/** One line for a finding: what the comparison means, then both sides' states in short. */
export function describeComparison(
  kind: StateComparison,
  source: ReactionState | null,
  target: ReactionState | null,
): string {
  const side = (x: ReactionState | null) =>
    x === null
      ? 'none'
      : `${x.present ? 'present' : 'absent'} @${x.eventTs} rev ${x.rev}${x.pending ? ` pending ${x.pending.delta > 0 ? '+1' : '-1'}` : ''}`;
  return `${MEANING[kind]} (source: ${side(source)}; target: ${side(target)})`;
}
