/**
 * Merges count changes so that dashboards get at most one `update` per window. Pure: the clock
 * and the timer are injected, so tests drive time by hand.
 *
 * - Leading edge: a change with nothing sent in the last window goes out at once; an isolated
 *   reaction is never delayed.
 * - Trailing flush: changes arriving inside a window are held (`LatestCounts`: the newest version
 *   of each emoji) and sent together when the window ends, so the latest state of every emoji
 *   reaches the dashboards even when traffic stops mid-window.
 * - Monotonic: a count older than one already sent (two publishes racing out of order) is dropped,
 *   so a dashboard never sees an emoji's version go backwards.
 */
import { LatestCounts, type EmojiCount } from '@reactometer/shared';

/** Runs `fn` after `ms`; returns a cancel function. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface UpdateCoalescerOptions {
  /** Minimum time between two flushes; 0 flushes every change at once. */
  readonly windowMs: number;
  /** Milliseconds on any monotonic scale. */
  readonly now: () => number;
  readonly schedule: Schedule;
  /** Receives each merged batch (never empty). */
  readonly flush: (counts: EmojiCount[]) => void;
}

export class UpdateCoalescer {
  private readonly pending = new LatestCounts();
  /** Highest version sent per emoji: what "backwards" is measured against. */
  private readonly sent = new Map<string, number>();
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly options: UpdateCoalescerOptions) {}

  /** Takes in changes; sends now, or at the end of the current window. */
  add(counts: readonly EmojiCount[]): void {
    const fresh = counts.filter((c) => c.version > (this.sent.get(c.emoji) ?? -Infinity));
    if (fresh.length === 0 || !this.pending.add(fresh)) return;
    if (this.cancelTimer !== undefined) return; // the trailing flush will carry it
    const wait = this.lastFlushAt + this.options.windowMs - this.options.now();
    if (wait <= 0) {
      this.flushNow();
      return;
    }
    this.cancelTimer = this.options.schedule(() => {
      this.cancelTimer = undefined;
      this.flushNow();
    }, wait);
  }

  /** Sends whatever is held now, ignoring the window (used before shutdown). */
  flushNow(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending.take();
    for (const c of batch) this.sent.set(c.emoji, c.version);
    this.lastFlushAt = this.options.now();
    this.options.flush(batch);
  }

  /** Changes waiting for the end of the window. */
  get pendingSize(): number {
    return this.pending.size;
  }
}

/** `Schedule` on Node's timers, unref'd so that a pending flush never holds a process open. */
export const nodeSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};
