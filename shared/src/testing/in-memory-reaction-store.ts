import { StoreUnavailableError } from '../errors.js';
import type { EmojiCount, ReactionState, ReactionStore, StateFilter } from '../ports.js';

export type StoreOperation =
  'getState' | 'putState' | 'adjustCount' | 'setCount' | 'listCounts' | 'scanStates' | 'ping';

export interface InMemoryStoreOptions {
  /**
   * Called before every operation; await it to interleave concurrent callers (for example with a
   * random number of `setImmediate` turns) the way a real database's latency would.
   */
  readonly beforeOperation?: (op: StoreOperation) => Promise<void> | void;
}

/**
 * A `ReactionStore` in memory with the same single-item atomicity as the real adapters: each
 * operation reads and writes in one synchronous step after its (optional) await point.
 */
export class InMemoryReactionStore implements ReactionStore {
  readonly states = new Map<string, ReactionState>();
  readonly counts = new Map<string, EmojiCount>();
  private readonly failures: StoreOperation[] = [];
  private readonly lateFailures: StoreOperation[] = [];
  private down = false;

  constructor(private readonly options: InMemoryStoreOptions = {}) {}

  /** Every operation throws `StoreUnavailableError` until `setDown(false)`. */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** The next call of `op` throws `StoreUnavailableError` (queue several to fail several). */
  failNext(op: StoreOperation): void {
    this.failures.push(op);
  }

  /**
   * The next call of `op` is applied, then throws `StoreUnavailableError`: a write that timed out
   * on the client but landed in the database.
   */
  failAfter(op: StoreOperation): void {
    this.lateFailures.push(op);
  }

  private async leave<T>(op: StoreOperation, result: T): Promise<T> {
    const i = this.lateFailures.indexOf(op);
    if (i >= 0) {
      this.lateFailures.splice(i, 1);
      throw new StoreUnavailableError(`injected failure after ${op} was applied`);
    }
    return result;
  }

  private async enter(op: StoreOperation): Promise<void> {
    await this.options.beforeOperation?.(op);
    const i = this.failures.indexOf(op);
    if (i >= 0) {
      this.failures.splice(i, 1);
      throw new StoreUnavailableError(`injected failure of ${op}`);
    }
    if (this.down) throw new StoreUnavailableError('in-memory store is down');
  }

  async getState(key: string): Promise<ReactionState | null> {
    await this.enter('getState');
    return this.states.get(key) ?? null;
  }

  async putState(next: ReactionState, expectedRev: number | null): Promise<boolean> {
    await this.enter('putState');
    const current = this.states.get(next.key);
    if ((current?.rev ?? null) !== expectedRev) return false;
    this.states.set(next.key, next);
    return this.leave('putState', true);
  }

  async adjustCount(emoji: string, delta: 1 | -1): Promise<EmojiCount> {
    await this.enter('adjustCount');
    const current = this.counts.get(emoji) ?? { emoji, count: 0, version: 0 };
    if (current.count + delta < 0) {
      if (!this.counts.has(emoji)) this.counts.set(emoji, current);
      return current;
    }
    const next = { emoji, count: current.count + delta, version: current.version + 1 };
    this.counts.set(emoji, next);
    return this.leave('adjustCount', next);
  }

  async setCount(
    emoji: string,
    count: number,
    expectedVersion: number | null,
  ): Promise<EmojiCount | null> {
    await this.enter('setCount');
    const current = this.counts.get(emoji);
    if ((current?.version ?? null) !== expectedVersion) return null;
    const next = { emoji, count, version: (current?.version ?? 0) + 1 };
    this.counts.set(emoji, next);
    return this.leave('setCount', next);
  }

  async listCounts(): Promise<EmojiCount[]> {
    await this.enter('listCounts');
    return [...this.counts.values()];
  }

  async *scanStates(filter: StateFilter = {}): AsyncIterable<ReactionState> {
    await this.enter('scanStates');
    for (const state of [...this.states.values()]) {
      if (filter.baseEmoji === undefined || state.baseEmoji === filter.baseEmoji) yield state;
    }
  }

  async ping(): Promise<void> {
    await this.enter('ping');
  }
}
