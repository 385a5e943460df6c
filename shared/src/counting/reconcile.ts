import type { Clock, EmojiCount, ReactionStore } from '../ports.js';

export interface ReconcileOptions {
  readonly clock: Clock;
  /** Same meaning as in `applyReactionEvent`: younger pending markers belong to live attempts. */
  readonly pendingLeaseMs: number;
  /** false: only report drift. */
  readonly repair: boolean;
}

export interface CountDrift {
  readonly emoji: string;
  readonly stored: number;
  readonly expected: number;
  /** true when the repair was written; false in report-only mode or when skipped. */
  readonly repaired: boolean;
}

export interface ReconcileReport {
  readonly statesScanned: number;
  readonly emojiChecked: number;
  readonly drift: CountDrift[];
  /** Emoji left alone because a count changed during the run or an update is in flight. */
  readonly skipped: string[];
  /** Stale pending markers cleared (their effect is in the recomputed count). */
  readonly pendingCleared: number;
}

/**
 * Recomputes every count from the stored reaction states, reports drift and (with `repair`)
 * writes the right counts. Safe while events flow: counts are read before states, and each repair
 * is a compare-and-set on the version read then, so an emoji that changed during the run is
 * skipped rather than overwritten; so is one with an update in flight. Run it again to settle those.
 */
export async function reconcile(
  store: ReactionStore,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const before = new Map<string, EmojiCount>();
  for (const c of await store.listCounts()) before.set(c.emoji, c);

  const expected = new Map<string, number>();
  const inFlight = new Set<string>();
  let statesScanned = 0;
  let pendingCleared = 0;
  const now = options.clock.now();

  for await (const state of store.scanStates()) {
    statesScanned++;
    expected.set(state.baseEmoji, (expected.get(state.baseEmoji) ?? 0) + (state.present ? 1 : 0));
    if (state.pending === null) continue;
    if (now - state.pending.since < options.pendingLeaseMs) {
      inFlight.add(state.baseEmoji);
    } else if (options.repair) {
      const cleared = await store.putState(
        { ...state, pending: null, rev: state.rev + 1 },
        state.rev,
      );
      if (cleared) pendingCleared++;
      else inFlight.add(state.baseEmoji);
    }
  }

  const drift: CountDrift[] = [];
  const skipped: string[] = [];
  const emojis = new Set([...before.keys(), ...expected.keys()]);
  for (const emoji of [...emojis].sort()) {
    const stored = before.get(emoji);
    const want = expected.get(emoji) ?? 0;
    if ((stored?.count ?? 0) === want) continue;
    if (inFlight.has(emoji)) {
      skipped.push(emoji);
      continue;
    }
    let repaired = false;
    if (options.repair) {
      const written = await store.setCount(emoji, want, stored?.version ?? null);
      repaired = written !== null;
      if (!repaired) skipped.push(emoji);
    }
    drift.push({ emoji, stored: stored?.count ?? 0, expected: want, repaired });
  }
  return { statesScanned, emojiChecked: emojis.size, drift, skipped, pendingCleared };
}
