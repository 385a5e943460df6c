import { isReactometerError } from '../errors.js';
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

/** A stored record reconcile cannot count, left alone and reported. */
export interface BadRecord {
  /** The state's key, or `count:<emoji>` for a count. */
  readonly key: string;
  readonly reason: string;
}

/** An emoji whose repair the store refused (for another reason than being unavailable). */
export interface FailedRepair {
  readonly emoji: string;
  readonly error: string;
}

export interface ReconcileReport {
  readonly statesScanned: number;
  readonly emojiChecked: number;
  readonly drift: CountDrift[];
  /** Emoji left alone because a count changed during the run or an update is in flight. */
  readonly skipped: string[];
  /** Stale pending markers cleared (their effect is in the recomputed count). */
  readonly pendingCleared: number;
  /** Records that count toward no emoji (written before the edge refused them); not counted. */
  readonly badRecords: BadRecord[];
  /** Repairs the store refused; the other emoji are still reconciled. */
  readonly failed: FailedRepair[];
}

/** The empty emoji name: a reaction named only by a skin tone, refused at the edge since. */
const NO_EMOJI = '';

/**
 * Recomputes every count from the stored reaction states, reports drift and (with `repair`)
 * writes the right counts. Safe while events flow: counts are read before states, and each repair
 * is a compare-and-set on the version read then, so an emoji that changed during the run is
 * skipped rather than overwritten; so is one with an update in flight. Run it again to settle those.
 *
 * One bad record never stops the run: a state or count of no emoji is reported and left alone, and
 * a repair the store refuses is reported while the other emoji are still reconciled. Only an
 * unavailable store ends the run (`StoreUnavailableError`), since nothing else could be done.
 */
export async function reconcile(
  store: ReactionStore,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const badRecords: BadRecord[] = [];
  const failed: FailedRepair[] = [];
  const before = new Map<string, EmojiCount>();
  for (const c of await store.listCounts()) {
    if (c.emoji === NO_EMOJI) {
      badRecords.push({ key: `count:${c.emoji}`, reason: 'a count of no emoji (empty name)' });
      continue;
    }
    before.set(c.emoji, c);
  }

  const expected = new Map<string, number>();
  const inFlight = new Set<string>();
  let statesScanned = 0;
  let pendingCleared = 0;
  const now = options.clock.now();

  for await (const state of store.scanStates()) {
    statesScanned++;
    if (state.baseEmoji === NO_EMOJI) {
      badRecords.push({ key: state.key, reason: 'a reaction of no emoji (only a skin tone)' });
      continue;
    }
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
      try {
        const written = await store.setCount(emoji, want, stored?.version ?? null);
        repaired = written !== null;
        if (!repaired) skipped.push(emoji);
      } catch (err) {
        if (isReactometerError(err) && err.code === 'store_unavailable') throw err;
        failed.push({ emoji, error: err instanceof Error ? err.message : String(err) });
      }
    }
    drift.push({ emoji, stored: stored?.count ?? 0, expected: want, repaired });
  }
  return {
    statesScanned,
    emojiChecked: emojis.size,
    drift,
    skipped,
    pendingCleared,
    badRecords,
    failed,
  };
}
