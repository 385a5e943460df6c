/**
 * What the migration works through: the core's `ReactionStore` on both sides, plus the one write
 * the port cannot express. The CLI (the composition root) supplies the concrete stores.
 */
import type { Clock, EmojiCount, ReactionStore } from '@reactometer/shared';

/**
 * Inserts a count with its version, only if the target has no count for that emoji yet. The port's
 * `setCount` always starts a new count at version 1, and the version is what dashboards use to
 * drop stale updates, so a copied count must keep its own.
 */
export interface CountInserter {
  /** false: a count already exists (nothing written). */
  insertCount(count: EmojiCount): Promise<boolean>;
}

export interface MigrationDeps {
  /** The droplet's store (read only). */
  readonly source: ReactionStore;
  /** The serverless deployment's store. */
  readonly target: ReactionStore;
  /** Writes counts into the same tables as `target`. */
  readonly targetCounts: CountInserter;
  readonly clock: Clock;
  /** The deployments' PENDING_LEASE_MS: younger pending markers belong to live attempts. */
  readonly pendingLeaseMs: number;
}
