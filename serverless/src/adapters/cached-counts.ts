/**
 * The counts as a warm container serves them to `GET /reactions` and WebSocket `getReactions`:
 * read from DynamoDB at most once per `ttlMs` (concurrent callers share one Scan), so that
 * thousands of dashboards reconnecting at once cost one read per warm container per `ttlMs`,
 * not one each. A count can be up to `ttlMs` old; updates pushed by the fan-out are not.
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

  listCounts(): Promise<EmojiCount[]> {
    if (this.held !== null && this.clock.now() - this.held.at < this.ttlMs) {
      return Promise.resolve(this.held.counts);
    }
    this.reading ??= this.store.listCounts().then(
      (counts) => {
        this.held = { counts, at: this.clock.now() };
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
