// The coalescer's promises, as properties over random traffic on a hand-driven clock: at most one
// flush per window, an isolated change at once, the latest state of every emoji always sent
// (also when traffic stops mid-window), and no emoji's version ever going backwards.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { EmojiCount } from '@reactometer/shared';
import { UpdateCoalescer, type Schedule } from '../src/ws/update-coalescer.js';

/** A manual clock with a timer queue: `advance` runs due timers in order. */
class ManualTime {
  now = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  readonly schedule: Schedule = (fn, ms) => {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  };

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > until) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.at);
      next.fn();
    }
    this.now = until;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

interface Flush {
  readonly at: number;
  readonly counts: EmojiCount[];
}

function setup(windowMs: number) {
  const time = new ManualTime();
  const flushes: Flush[] = [];
  const coalescer = new UpdateCoalescer({
    windowMs,
    now: () => time.now,
    schedule: time.schedule,
    flush: (counts) => flushes.push({ at: time.now, counts }),
  });
  return { time, flushes, coalescer };
}

/** One publish: a gap since the previous one, then an emoji's new absolute count. */
const step = fc.record({
  gapMs: fc.integer({ min: 0, max: 400 }),
  emoji: fc.constantFrom('a', 'b', 'c', 'd'),
  count: fc.nat(50),
  /** How far this publish's version lags the newest (0: in order; >0: a raced publish). */
  lag: fc.integer({ min: 0, max: 3 }),
});

describe('UpdateCoalescer', () => {
  it('flushes at most once per window, sends the newest version of every emoji, never goes backwards', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(step, { maxLength: 60 }),
        (windowMs, steps) => {
          const { time, flushes, coalescer } = setup(windowMs);
          const newest = new Map<string, EmojiCount>();
          let version = 0;
          for (const s of steps) {
            time.advance(s.gapMs);
            version++;
            const count = { emoji: s.emoji, count: s.count, version: Math.max(1, version - s.lag) };
            const held = newest.get(s.emoji);
            if (held === undefined || count.version > held.version) newest.set(s.emoji, count);
            coalescer.add([count]);
          }
          // Traffic stops: the trailing flush must still come, within one window.
          time.advance(windowMs);
          expect(time.pendingTimers).toBe(0);
          expect(coalescer.pendingSize).toBe(0);

          for (let i = 1; i < flushes.length; i++) {
            expect(flushes[i]!.at - flushes[i - 1]!.at).toBeGreaterThanOrEqual(windowMs);
          }
          const lastSeen = new Map<string, number>();
          for (const f of flushes) {
            expect(f.counts.length).toBeGreaterThan(0);
            for (const c of f.counts) {
              expect(c.version).toBeGreaterThan(lastSeen.get(c.emoji) ?? 0);
              lastSeen.set(c.emoji, c.version);
            }
          }
          // What a dashboard ends with: for every emoji, the newest version published.
          for (const [emoji, count] of newest) expect(lastSeen.get(emoji)).toBe(count.version);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sends an isolated change at once (leading edge)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 5000 }),
        (windowMs, idleMs) => {
          const { time, flushes, coalescer } = setup(windowMs);
          coalescer.add([{ emoji: 'a', count: 1, version: 1 }]);
          expect(flushes).toHaveLength(1);
          // After a quiet window, the next change goes out at once too.
          time.advance(windowMs + idleMs);
          coalescer.add([{ emoji: 'a', count: 2, version: 2 }]);
          expect(flushes.map((f) => f.at)).toEqual([0, windowMs + idleMs]);
        },
      ),
    );
  });

  it('merges changes inside a window into one update with the latest count of each emoji', () => {
    const { time, flushes, coalescer } = setup(100);
    coalescer.add([{ emoji: 'a', count: 1, version: 1 }]);
    time.advance(10);
    coalescer.add([{ emoji: 'a', count: 2, version: 2 }]);
    coalescer.add([{ emoji: 'b', count: 1, version: 3 }]);
    coalescer.add([{ emoji: 'a', count: 3, version: 4 }]);
    expect(flushes).toHaveLength(1);
    time.advance(89);
    expect(flushes).toHaveLength(1);
    time.advance(1);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]).toEqual({
      at: 100,
      counts: expect.arrayContaining([
        { emoji: 'a', count: 3, version: 4 },
        { emoji: 'b', count: 1, version: 3 },
      ]) as unknown,
    });
    expect(flushes[1]!.counts).toHaveLength(2);
  });

  it('drops a count older than one already sent', () => {
    const { time, flushes, coalescer } = setup(0);
    coalescer.add([{ emoji: 'a', count: 2, version: 5 }]);
    coalescer.add([{ emoji: 'a', count: 1, version: 4 }]);
    time.advance(1000);
    expect(flushes.map((f) => f.counts)).toEqual([[{ emoji: 'a', count: 2, version: 5 }]]);
  });

  it('with a window of 0 sends every change at once, in its own update', () => {
    const { flushes, coalescer } = setup(0);
    for (let v = 1; v <= 5; v++) coalescer.add([{ emoji: 'a', count: v, version: v }]);
    expect(flushes.map((f) => f.counts[0]!.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('flushNow sends what is held at once and cancels the timer', () => {
    const { time, flushes, coalescer } = setup(1000);
    coalescer.add([{ emoji: 'a', count: 1, version: 1 }]);
    coalescer.add([{ emoji: 'a', count: 2, version: 2 }]);
    coalescer.flushNow();
    expect(flushes.map((f) => f.counts)).toEqual([
      [{ emoji: 'a', count: 1, version: 1 }],
      [{ emoji: 'a', count: 2, version: 2 }],
    ]);
    expect(time.pendingTimers).toBe(0);
  });
});
