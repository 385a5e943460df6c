import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  coalesce,
  serverMessageSchema,
  type CoalesceOptions,
  type EmojiCount,
  type FlushOutcome,
} from '../src/index.js';
import { InMemoryCountsReader, InMemoryFanOutGate, ManualClock } from '../src/testing/index.js';

/**
 * Virtual time: `sleep` parks the caller until the clock reaches its wake-up time; `run` advances
 * the clock from one wake-up to the next, letting every promise settle in between, so several
 * concurrent `coalesce` calls interleave deterministically and windows can be checked exactly.
 */
class VirtualTime {
  readonly clock = new ManualClock(1_000_000);
  private readonly sleepers: { at: number; wake: () => void }[] = [];

  sleep = (ms: number): Promise<void> =>
    new Promise((wake) => this.sleepers.push({ at: this.clock.now() + Math.max(0, ms), wake }));

  /** Lets microtasks and a few macrotask turns run (adapters here are all in memory). */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  /** Runs until `done` settles, advancing time only when nothing else can move. */
  async run<T>(done: Promise<T>, limitMs = 600_000): Promise<T> {
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => undefined);
    const end = this.clock.now() + limitMs;
    for (let idle = 0; ;) {
      await this.settle();
      if (finished) return done;
      if (this.sleepers.length === 0) {
        // Callers may still be between steps (each step can yield several turns).
        if (++idle > 100) throw new Error('deadlock: nothing to wake and not finished');
        continue;
      }
      idle = 0;
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers.shift()!;
      if (next.at > end) throw new Error('virtual time limit reached');
      if (next.at > this.clock.now()) this.clock.set(next.at);
      next.wake();
    }
  }
}

interface Flush {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly reactions: EmojiCount[];
}

/** A world of counts, a gate, and a flush that takes `flushMs` of virtual time. */
function world(options: { windowMs?: number; flushMs?: number; leaseMs?: number } = {}) {
  const time = new VirtualTime();
  const gate = new InMemoryFanOutGate();
  const counts = new InMemoryCountsReader();
  const flushes: Flush[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let holders = 0;
  const flush = async (frame: string): Promise<FlushOutcome> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const startedAt = time.clock.now();
    const msg = serverMessageSchema.parse(JSON.parse(frame));
    if (msg.type !== 'update') throw new Error('not an update');
    await time.sleep(options.flushMs ?? 200);
    inFlight--;
    flushes.push({ startedAt, endedAt: time.clock.now(), reactions: msg.reactions });
    return { connections: 10 };
  };
  const opts = (): CoalesceOptions => ({
    gate,
    counts,
    clock: time.clock,
    holder: `h${++holders}`,
    windowMs: options.windowMs ?? 1000,
    leaseMs: options.leaseMs ?? 15_000,
    flush,
    sleep: time.sleep,
  });
  let version = 0;
  /** A committed count change of `emoji`, then its coalesced fan-out (as the Lambda does). */
  const change = (emoji: string, count: number) => {
    counts.set({ emoji, count, version: ++version });
    return coalesce([emoji], opts());
  };
  return {
    time,
    gate,
    counts,
    flushes,
    change,
    opts,
    maxInFlight: () => maxInFlight,
  };
}

describe('coalesce', () => {
  it('sends an isolated change at once (leading edge) and leaves the gate free', async () => {
    const w = world();
    const t0 = w.time.clock.now();
    const report = await w.time.run(w.change('tada', 1));
    expect(report).toEqual({ held: true, flushes: 1, handedOff: false, leaseLost: false });
    expect(w.flushes).toEqual([
      { startedAt: t0, endedAt: t0 + 200, reactions: [{ emoji: 'tada', count: 1, version: 1 }] },
    ]);
    expect(w.gate.holder).toBeNull();
    // The next flush may not start before this one's end plus the window.
    expect(w.gate.nextFlushAt).toBe(t0 + 200 + 1000);
    // Mark, acquire, take, release, look again: five gate steps for a lone change.
    expect(w.gate.calls).toEqual({
      markDirty: 1,
      tryAcquire: 1,
      takeDirty: 1,
      renew: 0,
      release: 1,
      isDirty: 1,
    });
  });

  it('merges changes during a flush and its window into one trailing flush with the latest counts', async () => {
    const w = world();
    const first = w.change('tada', 1);
    const others: Promise<unknown>[] = [];
    // While the first flush runs (200 ms) and during its window, four more changes of two emoji.
    w.time.clock.advance(0);
    const later = (async () => {
      await w.time.sleep(50);
      others.push(w.change('tada', 2));
      await w.time.sleep(300);
      others.push(w.change('+1', 1));
      await w.time.sleep(300);
      others.push(w.change('tada', 1));
      others.push(w.change('+1', 2));
    })();
    await w.time.run(Promise.all([first, later]).then(() => Promise.all(others)));
    expect(w.flushes).toHaveLength(2);
    const [a, b] = w.flushes;
    expect(a!.reactions).toEqual([{ emoji: 'tada', count: 1, version: 1 }]);
    // The trailing flush starts exactly when the window after the first one's end has passed.
    expect(b!.startedAt).toBe(a!.endedAt + 1000);
    expect([...b!.reactions].sort((x, y) => x.emoji.localeCompare(y.emoji))).toEqual([
      { emoji: '+1', count: 2, version: 5 },
      { emoji: 'tada', count: 1, version: 4 },
    ]);
    expect(w.maxInFlight()).toBe(1);
    expect(w.gate.holder).toBeNull();
    expect(w.gate.dirty.size).toBe(0);
  });

  it('a writer that marks dirty right after the holder found the set empty is still flushed (the release race)', async () => {
    const w = world();
    await w.time.run(w.change('tada', 1));
    // Replay the race by hand: a holder takes an empty set ...
    w.time.clock.advance(5_000);
    const lease = await w.gate.tryAcquire('holder', w.time.clock.now(), 15_000);
    expect(lease).not.toBeNull();
    expect(await w.gate.takeDirty('holder', w.time.clock.now(), 15_000)).toEqual([]);
    // ... a writer marks dirty and fails to acquire: it leaves, relying on the holder ...
    w.counts.set({ emoji: 'tada', count: 2, version: 2 });
    const writer = await coalesce(['tada'], w.opts());
    expect(writer.held).toBe(false);
    // ... and the holder, continuing the protocol (release, look again), picks it up.
    await w.gate.release('holder', lease!);
    const holderAgain = await w.time.run(coalesce([], w.opts()));
    expect(holderAgain.flushes).toBe(1);
    expect(w.flushes.at(-1)!.reactions).toEqual([{ emoji: 'tada', count: 2, version: 2 }]);
  });

  it('hands off instead of holding on when the invocation runs out of time', async () => {
    const w = world();
    let handOffs = 0;
    w.counts.set({ emoji: 'tada', count: 1, version: 1 });
    const holder = coalesce(['tada'], {
      ...w.opts(),
      mayContinue: () => false,
      handOff: async () => void handOffs++,
    });
    // During the holder's flush another change arrives and, finding the gate held, leaves.
    const writer = (async () => {
      await w.time.sleep(50);
      return w.change('+1', 1);
    })();
    const [held, left] = await w.time.run(Promise.all([holder, writer]));
    expect(held).toEqual({ held: true, flushes: 1, handedOff: true, leaseLost: false });
    expect(left.held).toBe(false);
    expect(handOffs).toBe(1);
    // The gate is free with the change still marked: the hand-off's invocation takes it from here.
    expect(w.gate.holder).toBeNull();
    expect([...w.gate.dirty]).toEqual(['+1']);
  });

  it('puts the taken emoji back when a flush fails, and lets go of the gate', async () => {
    const time = new VirtualTime();
    const gate = new InMemoryFanOutGate();
    const counts = new InMemoryCountsReader();
    counts.set({ emoji: 'tada', count: 1, version: 1 });
    await expect(
      time.run(
        coalesce(['tada'], {
          gate,
          counts,
          clock: time.clock,
          holder: 'h',
          windowMs: 1000,
          leaseMs: 15_000,
          sleep: time.sleep,
          flush: async () => {
            throw new Error('DynamoDB connections.pages failed: ECONNREFUSED');
          },
        }),
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect([...gate.dirty]).toEqual(['tada']);
    expect(gate.holder).toBeNull();
  });

  it('stops without flushing when its lease was taken over (a presumed-dead holder)', async () => {
    const w = world();
    await w.gate.markDirty(['tada']);
    w.counts.set({ emoji: 'tada', count: 1, version: 1 });
    expect(await w.gate.tryAcquire('old', w.time.clock.now(), 1)).not.toBeNull();
    w.time.clock.advance(10);
    // The old holder's lease expired; a new one takes the gate and flushes.
    const report = await w.time.run(coalesce([], w.opts()));
    expect(report.flushes).toBe(1);
    // The old one wakes up and finds it no longer holds anything.
    await expect(w.gate.takeDirty('old', w.time.clock.now(), 1000)).rejects.toThrow(/lost/);
  });

  it('never overlaps flushes, loses no change, never sends a version backwards, and keeps the window (any interleaving)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gapMs: fc.integer({ min: 0, max: 1500 }),
            emoji: fc.constantFrom('a', 'b', 'c'),
            count: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 16 }),
        async (changes, flushMs, yields) => {
          const w = world({ flushMs, windowMs: 500 });
          // Every gate step yields a varying number of turns: callers interleave between steps.
          let k = 0;
          w.gate.beforeStep = async () => {
            const n = yields[k++ % yields.length]!;
            for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
          };
          const calls: Promise<unknown>[] = [];
          const script = (async () => {
            for (const c of changes) {
              if (c.gapMs > 0) await w.time.sleep(c.gapMs);
              calls.push(w.change(c.emoji, c.count));
            }
          })();
          await w.time.run(script.then(() => Promise.all(calls)));
          expect(w.maxInFlight()).toBe(1);
          // Flushes are spaced by the window, measured from the previous flush's end.
          for (let i = 1; i < w.flushes.length; i++)
            expect(w.flushes[i]!.startedAt).toBeGreaterThanOrEqual(w.flushes[i - 1]!.endedAt + 500);
          // Per emoji, versions only grow from flush to flush ...
          const last = new Map<string, EmojiCount>();
          for (const f of w.flushes)
            for (const r of f.reactions) {
              expect(r.version).toBeGreaterThanOrEqual(last.get(r.emoji)?.version ?? 0);
              last.set(r.emoji, r);
            }
          // ... and the last one sent is the final count: nothing is lost when traffic stops.
          for (const [emoji, final] of w.counts.counts) expect(last.get(emoji)).toEqual(final);
          expect(w.gate.holder).toBeNull();
          expect(w.gate.dirty.size).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
