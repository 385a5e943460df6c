import type { EmojiCount } from '../ports.js';

/**
 * The newest count of each emoji seen since the last `take()`: what a coalesced `update` carries.
 * Counts are absolute and versioned, so merging keeps, per emoji, the one with the highest
 * version; an older one arriving late (a retried publish, a slower fan-out) can never replace a
 * newer one, and a dashboard never sees its version go backwards.
 */
export class LatestCounts {
  // A Map, not an object: emoji names are user data (`constructor`, `__proto__`).
  private readonly latest = new Map<string, EmojiCount>();

  /** Merges `counts`; returns true when at least one of them is newer than what was held. */
  add(counts: readonly EmojiCount[]): boolean {
    let changed = false;
    for (const count of counts) {
      const held = this.latest.get(count.emoji);
      if (held === undefined || count.version > held.version) {
        this.latest.set(count.emoji, count);
        changed = true;
      }
    }
    return changed;
  }

  /** Emoji with a count waiting to be sent. */
  get size(): number {
    return this.latest.size;
  }

  /** Everything held, in no particular order, and forgets it. */
  take(): EmojiCount[] {
    const out = [...this.latest.values()];
    this.latest.clear();
    return out;
  }
}
