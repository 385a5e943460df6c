import { LeaseLostError } from '../fanout/coalesce.js';
import type { CountsReader, EmojiCount, FanOutGate, GateLease } from '../ports.js';

/**
 * The fan-out gate in memory, with the semantics of the DynamoDB adapter: every method is one
 * atomic step. `beforeStep`, when set, runs before each step (tests interleave callers with it).
 */
export class InMemoryFanOutGate implements FanOutGate {
  dirty = new Set<string>();
  holder: string | null = null;
  leaseUntil = 0;
  nextFlushAt = 0;
  connections: number | null = null;
  /** Steps taken, by method (for tests of how many writes a path costs). */
  readonly calls: Record<keyof FanOutGate, number> = {
    markDirty: 0,
    tryAcquire: 0,
    takeDirty: 0,
    renew: 0,
    release: 0,
    isDirty: 0,
  };
  beforeStep: ((step: keyof FanOutGate) => Promise<void>) | undefined;

  private async step(name: keyof FanOutGate): Promise<void> {
    this.calls[name]++;
    if (this.beforeStep) await this.beforeStep(name);
  }

  async markDirty(emojis: readonly string[]): Promise<void> {
    await this.step('markDirty');
    for (const e of emojis) this.dirty.add(e);
  }

  async tryAcquire(holder: string, nowMs: number, leaseMs: number): Promise<GateLease | null> {
    await this.step('tryAcquire');
    if (this.holder !== null && this.leaseUntil >= nowMs) return null;
    this.holder = holder;
    this.leaseUntil = nowMs + leaseMs;
    return { nextFlushAt: this.nextFlushAt, connections: this.connections };
  }

  async takeDirty(holder: string, nowMs: number, leaseMs: number): Promise<string[]> {
    await this.step('takeDirty');
    if (this.holder !== holder) throw new LeaseLostError(holder);
    this.leaseUntil = nowMs + leaseMs;
    const taken = [...this.dirty];
    this.dirty.clear();
    return taken;
  }

  async renew(holder: string, nowMs: number, leaseMs: number): Promise<void> {
    await this.step('renew');
    if (this.holder !== holder) throw new LeaseLostError(holder);
    this.leaseUntil = nowMs + leaseMs;
  }

  async release(holder: string, next: GateLease): Promise<void> {
    await this.step('release');
    if (this.holder !== holder) return;
    this.holder = null;
    this.nextFlushAt = next.nextFlushAt;
    this.connections = next.connections;
  }

  async isDirty(): Promise<boolean> {
    await this.step('isDirty');
    return this.dirty.size > 0;
  }
}

/** Counts held in a map, read as a strongly consistent store would answer. */
export class InMemoryCountsReader implements CountsReader {
  readonly counts = new Map<string, EmojiCount>();

  set(count: EmojiCount): void {
    this.counts.set(count.emoji, count);
  }

  async getCounts(emojis: readonly string[]): Promise<EmojiCount[]> {
    return emojis.flatMap((e) => {
      const c = this.counts.get(e);
      return c === undefined ? [] : [c];
    });
  }
}
