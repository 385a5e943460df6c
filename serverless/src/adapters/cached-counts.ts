/**
 * The counts as a warm container serves them to `GET /reactions` and WebSocket `getReactions`:
 * read from DynamoDB at most once per `ttlMs` (concurrent callers share one Scan), so that
 * thousands of dashboards reconnecting at once cost one read per warm container per `ttlMs`,
 * not one each. A count can be up to `ttlMs` old (counted from when its read began); updates
 * pushed by the fan-out are not. A snapshot served from it says so (`refreshAfterMs`), and the
 * dashboard asks once more after that long: a change fanned out while this copy was held would
 * otherwise stay missing on a dashboard that connected just after the fan-out.
 */
import type { Clock, EmojiCount, ReactionStore } from '@reactometer/shared';

export class CachedCounts implements Pick<ReactionStore, 'listCounts'> {
  private held: { counts: EmojiCount[]; at: number } | null = null;
  private reading: Promise<EmojiCount[]> | null = null;

  constructor(
    private readonly store: Pick<ReactionStore, 'listCounts'>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** How old a count it serves can be. */
  get maxAgeMs(): number {
    return this.ttlMs;
  }

  listCounts(): Promise<EmojiCount[]> {
    if (this.held !== null && this.clock.now() - this.held.at < this.ttlMs) {
      return Promise.resolve(this.held.counts);
    }
    const startedAt = this.clock.now();
    this.reading ??= this.store.listCounts().then(
      (counts) => {
        // Aged from the start of the read: a change that landed during the Scan may be missing.
        this.held = { counts, at: startedAt };
        this.reading = null;
        return counts;
      },
      (err: unknown) => {
        this.reading = null;
        throw err;
      },
    );
    return this.reading;
  }
}
