/**
 * The port the inbox worker holds around one event's store writes when several processes share a
 * database whose updates are not atomic (FerretDB v1: read, then write). Keyed by base emoji:
 * every document an event writes (its reaction's state, its emoji's count) belongs to exactly one
 * base emoji, so one lease per emoji makes the writes of different processes take turns.
 * `redis/redis-emoji-lock.ts` is the adapter; one process alone, or real MongoDB, needs none.
 */
export interface EmojiLock {
  /**
   * Runs `task` while holding the emoji's lease. Throws `StoreUnavailableError` when the lease
   * cannot be asked for (the worker retries later; the event stays in the inbox) and
   * `ReactionBusyError` when another holder kept it past the wait.
   */
  run<T>(emoji: string, task: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
