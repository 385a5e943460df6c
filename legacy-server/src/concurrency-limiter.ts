/**
 * Lets at most `limit` async tasks run at once; the others wait in call order.
 *
 * Why the MongoDB store has one: FerretDB v1 on SQLite does a few hundred writes per second
 * however many connections send them (SQLite has one writer), and with a hundred writes in
 * flight each one takes seconds, longer than the timeout that tells a dead database from a busy
 * one. Keeping the waiting here, in the process, keeps every database round trip short, so that
 * its timeout still means "the database does not answer" and not "the database is busy".
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
  }

  /** Runs `task` once fewer than `limit` tasks are running; settles as the task does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) {
      this.running++;
    } else {
      // The finishing task hands its slot straight to us, so `running` stays as it is.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }
}
