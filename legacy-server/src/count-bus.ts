/**
 * The port between droplet processes that share one database: every counted change is handed to
 * the bus, and every process hears every change (its own included) and broadcasts what is newer
 * than its copy to its own dashboards. `redis/redis-count-bus.ts` is the adapter (Redis pub/sub);
 * one process alone needs none.
 */
import type { EmojiCount } from '@reactometer/shared';

export interface CountBusHandlers {
  /** Counts published by any process (this one too: the counts cache drops what it holds). */
  onCounts(counts: readonly EmojiCount[]): void;
  /**
   * The bus works again after it was lost: changes published meanwhile were missed, so the
   * process re-reads the counts and sends its dashboards a fresh snapshot.
   */
  onReconnected(): void;
}

export interface CountBus {
  /** Starts listening; resolves once subscribed (or at once, when the bus is down: it retries). */
  subscribe(handlers: CountBusHandlers): Promise<void>;
  /** Rejects at once when the bus is unreachable; the caller's dashboards are served anyway. */
  publish(counts: readonly EmojiCount[]): Promise<void>;
  close(): Promise<void>;
}
