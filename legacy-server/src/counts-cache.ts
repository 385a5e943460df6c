/**
 * The droplet's in-memory copy of the counts: `GET /reactions` and every WebSocket `getReactions`
 * are answered from it, so that a reconnect storm of dashboards costs no database reads. It is
 * loaded at start, kept current by this process's own writes (the worker's publisher passes
 * through it), reloaded when the database answers again after an outage, and refreshed
 * periodically so that changes made by other processes sharing the database (issue 14's several
 * droplets, a `reconcile`) reach it and its dashboards too.
 */
import {
  StoreUnavailableError,
  type EmojiCount,
  type Publisher,
  type ReactionStore,
} from '@reactometer/shared';

export interface CountsCacheLogger {
  warn(obj: object, msg?: string): void;
}

export class CountsCache {
  private readonly counts = new Map<string, EmojiCount>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<ReactionStore, 'listCounts'>,
    /** Where changes found by a refresh go (the broadcaster). */
    private readonly downstream: Publisher,
    private readonly logger?: CountsCacheLogger,
  ) {}

  /** The counts, as `ReactionStore.listCounts` would give them; unavailable until first loaded. */
  async listCounts(): Promise<EmojiCount[]> {
    if (!this.loaded) {
      throw new StoreUnavailableError('the counts have not been loaded from the database yet');
    }
    return [...this.counts.values()];
  }

  /** Keeps each emoji's highest version; returns the counts that were newer than the copy. */
  merge(counts: readonly EmojiCount[]): EmojiCount[] {
    const newer: EmojiCount[] = [];
    for (const c of counts) {
      const held = this.counts.get(c.emoji);
      if (held !== undefined && held.version >= c.version) continue;
      this.counts.set(c.emoji, c);
      newer.push(c);
    }
    return newer;
  }

  /**
   * Counts heard from the other processes (the count bus): what is newer than the copy is kept
   * and handed on, so that each change reaches every dashboard once, whichever process counted it.
   */
  async receive(counts: readonly EmojiCount[]): Promise<void> {
    const newer = this.merge(counts);
    if (newer.length > 0) await this.downstream.publish(newer);
  }

  /** A publisher that updates the copy, then hands the counts on (the worker's publisher). */
  publisher(): Publisher {
    return {
      publish: async (counts) => {
        this.merge(counts);
        await this.downstream.publish(counts);
      },
    };
  }

  /**
   * Reads every count from the database and pushes what changed to the dashboards. Throws what
   * the store threw; concurrent calls share one read.
   */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const counts = await this.store.listCounts();
        this.loaded = true;
        await this.receive(counts);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Refreshes every `intervalMs` (0: never) until `stop()`; failures wait for the next turn. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer !== null) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => {
        if (!this.loaded) this.logger?.warn({ err }, 'counts not loaded yet; retrying');
      });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
